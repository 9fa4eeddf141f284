/**
 * XML content travelling between datamodels as text: isolated sandboxes cannot hand out their
 * DOM objects, so a DOM leaves as its serialisation and is parsed again wherever it arrives.
 */
export class XmlDocumentValue {
  constructor(readonly xml: string) {}
  toString(): string {
    return this.xml;
  }
}
