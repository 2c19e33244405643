// Jest resolver for client/ (an ESM package whose relative imports end in `.js`, as Node and
// TypeScript's NodeNext want): when `./x.js` does not exist, `./x.ts` is meant.
module.exports = (request, options) => {
  try {
    return options.defaultResolver(request, options);
  } catch (error) {
    if (/^\.{1,2}\/.*\.js$/.test(request)) {
      return options.defaultResolver(request.replace(/\.js$/, '.ts'), options);
    }
    throw error;
  }
};
