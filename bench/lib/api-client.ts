/** The few API calls the harness makes to set its scenarios up. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: unknown; expect?: number } = {},
  ): Promise<{ status: number; headers: Headers; body: T }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(options.token && { authorization: `Bearer ${options.token}` }),
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    if (options.expect !== undefined && response.status !== options.expect) {
      throw new Error(`${method} ${path}: ${response.status} (expected ${options.expect}) ${text}`);
    }
    return {
      status: response.status,
      headers: response.headers,
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  }

  /** An access token and the user's id. */
  async login(email: string, password: string): Promise<{ token: string; userId: string }> {
    const { body } = await this.request<{ accessToken: string; user: { id: string } }>(
      'POST',
      '/v1/auth/login',
      { body: { email, password }, expect: 200 },
    );
    return { token: body.accessToken, userId: body.user.id };
  }

  async createUser(adminToken: string, email: string, password: string): Promise<string> {
    const { body } = await this.request<{ id: string }>('POST', '/v1/users', {
      token: adminToken,
      body: { email, password, name: email.split('@')[0], role: 'user' },
      expect: 201,
    });
    return body.id;
  }
}
