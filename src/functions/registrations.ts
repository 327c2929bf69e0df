/**
 * POST /api/registrations: the registration broker (src/registration/broker.ts). Anonymous at the
 * host: the caller is a runner VM, which has no function key; it is authenticated by its managed
 * identity's token instead. Adapter only: parse, hand to the broker, answer, log the decision.
 */
import { app, HttpResponse, type HttpRequest, type InvocationContext } from './azure-functions.js';
import { parseRegistrationRequest } from './parse-registration-request.js';
import { getRegistrationBroker } from './runtime.js';

export function registerRegistrations(): void {
  app.http('registerRunner', {
    route: 'registrations',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const noStore = { 'Cache-Control': 'no-store' };
      const parsed = parseRegistrationRequest(await request.text());
      if (!parsed.ok)
        return new HttpResponse({
          status: parsed.status,
          jsonBody: { error: parsed.message },
          headers: noStore,
        });
      const answer = await getRegistrationBroker()({
        authorization: request.headers.get('authorization'),
        instance: parsed.value.instance,
        attestedDocument: parsed.value.attestedDocument,
      });
      if (answer.status === 200) context.log(answer.log);
      else context.warn(answer.log);
      return new HttpResponse({
        status: answer.status,
        jsonBody: answer.body,
        headers: { ...noStore, ...answer.headers },
      });
    },
  });
}
