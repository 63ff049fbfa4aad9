// In the bundle, resvg-js' platform loader is replaced by the native addon that entry.mjs unpacked.
module.exports = require(process.env.REPRO_RESVG_NODE);
