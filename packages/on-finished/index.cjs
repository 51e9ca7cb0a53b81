'use strict';
// express, send, morgan and finalhandler are CommonJS and call `require('on-finished')(res, cb)`:
// they need the function itself, while require() of the ESM build returns its namespace.
module.exports = require('./dist/index.js').default;
