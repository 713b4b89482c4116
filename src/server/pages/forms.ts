// Bodies of the pages' forms: application/x-www-form-urlencoded only, parsed with
// URLSearchParams, at most MAX_FORM_BYTES (more: 413). Registered only in the scope of the
// form routes; every other content type is refused there (415).
import type { FastifyInstance } from 'fastify';

/** A sign-in or token form is a few hundred bytes; an admin form with a group's members a few KB. */
export const MAX_FORM_BYTES = 16 * 1024;

/** A form's fields: the first value of each name, '' when absent. */
export class FormFields {
  private readonly params: URLSearchParams;
  constructor(params: URLSearchParams) {
    this.params = params;
  }
  get(name: string): string {
    return this.params.get(name) ?? '';
  }
  has(name: string): boolean {
    return this.params.has(name);
  }
}

export function parseForm(body: string): FormFields {
  return new FormFields(new URLSearchParams(body));
}

/** The fields of a request's form (an empty form when it had no body). */
export function formOf(body: unknown): FormFields {
  return body instanceof FormFields ? body : new FormFields(new URLSearchParams());
}

export function registerFormParser(app: FastifyInstance, maxBytes = MAX_FORM_BYTES): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: maxBytes }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });
}
