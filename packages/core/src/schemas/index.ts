export {
  closeEventSchema,
  connectionEventSchema,
  dataEventSchema,
  errorEventSchema,
  errorInfoSchema,
  finishEventSchema,
  headersEventSchema,
  requestEndEventSchema,
} from '../eventSchemas.js';
export { eventRecordSchema, logRecordSchema, openRecordSchema } from '../logSchemas.js';
export { functionOption, parseOptions } from '../parseOptions.js';
