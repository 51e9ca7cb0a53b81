export { lifeline, lifeline as default, type LifelineFastifyOptions } from './plugin.js';
