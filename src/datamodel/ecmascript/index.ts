import type { DataModelDefinition } from '../datamodel.js';
import { checkEcmaScriptSyntax } from './analyse.js';
import { FastEcmaScriptChartModel } from './fast-realm.js';
import { IsolatedEcmaScriptChartModel } from './isolated.js';

export const ecmascriptDataModel: DataModelDefinition = {
  name: 'ecmascript',
  checkSyntax: checkEcmaScriptSyntax,
  createChartModel(chart, options) {
    return options.sandbox === 'isolated' ? new IsolatedEcmaScriptChartModel(chart, options) : new FastEcmaScriptChartModel(chart, options);
  },
};
