// The formats this server offers: one line each.
import type { FormatPlugin } from '../core/format-plugin.ts';
import { aptFormat } from './apt/plugin.ts';
import { archFormat } from './arch/plugin.ts';
import { filesFormat } from './files/plugin.ts';
import { pypiFormat } from './pypi/plugin.ts';

export const formats: FormatPlugin[] = [pypiFormat, filesFormat, archFormat, aptFormat];
