/**
 * GET /api/images/{image}/{version}/software: what an image version holds, its software report
 * (docs/software-report.md) as the build stored it: the JSON, or the Markdown with `?format=md`.
 * `{image}` is linux, windows or one of kiln's gallery image definitions. The gallery version's
 * kiln-software-report tag names the report's blob; the blob is read with the app's identity.
 * Reads only.
 */
import { app, HttpResponse, type HttpRequest, type InvocationContext } from './azure-functions.js';
import { getRuntime } from './runtime.js';
import { ensureError } from '../clients/errors.js';
import { galleryVersionProblem } from '../domain/versions.js';
import { SOFTWARE_REPORT_TAG } from '../domain/software-report.js';

const FORMATS = {
  json: { file: 'software.json', contentType: 'application/json; charset=utf-8' },
  md: { file: 'software.md', contentType: 'text/markdown; charset=utf-8' },
} as const;

const answer = (status: number, error: string, headers: Record<string, string> = {}) =>
  new HttpResponse({ status, jsonBody: { error }, headers: { 'Cache-Control': 'no-store', ...headers } });

export function registerImages(): void {
  app.http('getImageSoftware', {
    route: 'images/{image}/{version}/software',
    methods: ['GET'],
    authLevel: 'function',
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const { settings, arm, softwareReports } = getRuntime();
      const image = request.params.image ?? '';
      const version = request.params.version ?? '';
      const { linux, windows } = settings.gallery.definitions;
      const definition =
        image === 'linux' ? linux : image === 'windows' ? windows : [linux, windows].find((d) => d === image);
      if (!definition)
        return answer(404, `unknown image "${image}": one of linux, windows, ${linux} or ${windows}`);
      const problem = galleryVersionProblem(version);
      if (problem) return answer(400, problem);
      const formatAsked = request.query.get('format') ?? 'json';
      if (!(formatAsked in FORMATS))
        return answer(400, `query parameter "format" must be json or md, got "${formatAsked}"`);
      const format = FORMATS[formatAsked as keyof typeof FORMATS];
      if (!softwareReports)
        return answer(
          503,
          'KILN_BLOB_ENDPOINT is not set: kiln stores and reads no software reports (set it to the blob endpoint of the storage account that holds them)',
        );

      const what = `${definition} ${version}`;
      try {
        const found = await arm.getImageVersion(definition, version);
        if (!found) return answer(404, `no version ${version} of ${definition} in the gallery`);
        const named = found.tags[SOFTWARE_REPORT_TAG];
        if (!named)
          return answer(
            404,
            `${what} has no software report: the version has no ${SOFTWARE_REPORT_TAG} tag (built before kiln stored reports, its build stored none, or it was published outside kiln)`,
          );
        // The tag names the JSON; the Markdown is beside it.
        const blob = named.replace(/[^/]*$/, format.file);
        const text = await softwareReports.read(blob);
        if (text === undefined)
          return answer(
            404,
            `${what}: its software report ${blob} does not exist in ${settings.softwareReports!.container} (the version's ${SOFTWARE_REPORT_TAG} tag is ${named})`,
          );
        return new HttpResponse({
          status: 200,
          body: text,
          headers: {
            'Content-Type': format.contentType,
            'Cache-Control': 'no-store',
            'X-Kiln-Software-Report': blob,
          },
        });
      } catch (thrown) {
        const message = ensureError(thrown).message;
        context.error(`GET /api/images/${image}/${version}/software: ${message}`);
        return answer(503, `the software report of ${what} cannot be read: ${message}`, {
          'Retry-After': '30',
        });
      }
    },
  });
}
