export {
  closeEventSchema,
  connectionEventSchema,
  dataEventSchema,
  errorEventSchema,
  errorInfoSchema,
  eventDetailSchema,
  finishEventSchema,
  headersEventSchema,
  machineEventSchema,
  requestEndEventSchema,
} from '../eventSchemas.js';
export { eventRecordSchema, logRecordSchema, machineEventRecordSchema, machineLogRecordSchema, openRecordSchema } from '../logSchemas.js';
export { functionOption, parseOptions } from '../parseOptions.js';
