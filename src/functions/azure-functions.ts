/**
 * @azure/functions is a webpack-built CommonJS bundle: Node's ESM loader cannot see its named
 * exports, so `import { app } from '@azure/functions'` fails outside a bundler. Everything kiln
 * uses from it is re-exported here from the module object.
 */
import azureFunctions from '@azure/functions';
import type * as AzureFunctions from '@azure/functions';

export const app: typeof AzureFunctions.app = azureFunctions.app;
export const HttpRequest: typeof AzureFunctions.HttpRequest = azureFunctions.HttpRequest;
export type HttpRequest = AzureFunctions.HttpRequest;
export const HttpResponse: typeof AzureFunctions.HttpResponse = azureFunctions.HttpResponse;
export type HttpResponse = AzureFunctions.HttpResponse;
export const InvocationContext: typeof AzureFunctions.InvocationContext = azureFunctions.InvocationContext;
export type InvocationContext = AzureFunctions.InvocationContext;
export type { EventGridEvent, Timer } from '@azure/functions';
