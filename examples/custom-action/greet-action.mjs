// A custom executable-content element, registered through the same door as the core elements
// and the ixn module: <acme:greet name="expr" location="var"/> stores a greeting in `location`.
export const ACME_NS = 'urn:example:acme';

export const greetAction = {
  namespace: ACME_NS,
  name: 'greet',
  // Load time: validate attributes and compile expressions once; problems become diagnostics.
  compile(element, ctx) {
    ctx.allowOnly(element, ['name', 'location']);
    return {
      name: ctx.codeAttr(element, 'name', 'expr', true),
      location: ctx.codeAttr(element, 'location', 'location', true),
    };
  },
  // Run time: evaluate through the session's datamodel; throwing raises error.execution.
  execute(compiled, ctx) {
    const who = ctx.datamodel.evaluate(compiled.name);
    if (typeof who !== 'string' || who === '') throw new Error('greet: name must be a non-empty string');
    ctx.datamodel.assign(compiled.location, `Hello, ${who}!`);
  },
};
