/** `email.welcome`: no fields; the email goes to the job's owner. */
export class EmailWelcomePayload {}
