/** The billing actions' namespace (declare it with any prefix, e.g. xmlns:billing="…"). */
export const BILLING_NS = 'http://orchestrion.dev/scxml/billing';
