import type { DataModelDefinition } from '../datamodel.js';
import { checkEcmaScriptSyntax } from './analyse.js';
import { FastEcmaScriptChartModel } from './fast-realm.js';

export const ecmascriptDataModel: DataModelDefinition = {
  name: 'ecmascript',
  checkSyntax: checkEcmaScriptSyntax,
  createChartModel(chart, options) {
    return new FastEcmaScriptChartModel(chart, options);
  },
};
