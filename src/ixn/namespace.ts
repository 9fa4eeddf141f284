/** The interaction module's namespace, as Genesys ORS strategies declare it (any prefix). */
export const IXN_NS = 'http://www.genesyslab.com/modules/interaction';
