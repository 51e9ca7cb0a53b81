// What `"overrides": { "on-finished": "npm:@lifeline/on-finished" }` does, done at run time so one workspace can
// run the same app both ways: every require('on-finished'), from express, send, finalhandler or morgan,
// resolves to the drop-in. Preload with `node --require ./useDropIn.cjs app.cjs`.
'use strict';
const Module = require('node:module');

const dropIn = require.resolve('@lifeline/on-finished');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveOnFinished(request, ...rest) {
  return request === 'on-finished' ? dropIn : resolveFilename.call(this, request, ...rest);
};
