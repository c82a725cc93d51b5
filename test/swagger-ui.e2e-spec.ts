import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { IN_CI } from './helpers/services';
import { startTestApp, TestApp } from './helpers/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** A real browser; CI installs Debian's chromium, a laptop without it skips this one suite. */
const describeInBrowser = existsSync(CHROMIUM) || IN_CI ? describe : describe.skip;

describeInBrowser('Swagger UI', () => {
  const admin = { email: 'docs-admin@example.com', password: 'docs-admin-password' };
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  it('authorizes with the OAuth2 password flow and calls a protected route with the token', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(10_000);
      const consoleErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      await page.goto(`${base}/docs/`);
      await page.click('.btn.authorize');
      const oauth = page.locator('.auth-container', { hasText: 'oauth2' });
      await oauth.locator('#oauth_username').fill(admin.email);
      await oauth.locator('#oauth_password').fill(admin.password);
      await oauth.locator('button.authorize').click();
      await page.locator('.modal-ux').getByText('Authorized', { exact: true }).waitFor();
      await page.click('.modal-ux .close-modal');

      const me = page.locator('#operations-auth-AuthController_me_v1');
      await me.locator('.opblock-summary').click();
      await me.locator('button.try-out__btn').click();
      await me.locator('button.execute').click();
      const status = me.locator('.live-responses-table tbody .response-col_status').first();
      await status.waitFor();
      expect((await status.innerText()).trim()).toBe('200');
      expect(
        await me.locator('.live-responses-table tbody .microlight').first().innerText(),
      ).toContain(admin.email);
      // The docs' Content-Security-Policy lets Swagger UI run: nothing was blocked.
      expect(consoleErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
