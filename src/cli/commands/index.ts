/** Every CLI command. Add a command: write src/cli/commands/<name>.ts and add it here. */
import type { Command } from '../command.ts';
import { check } from './check.ts';
import { checkTrace } from './checkTrace.ts';
import { conform } from './conform.ts';
import { diagram } from './diagram.ts';
import { diff } from './diff.ts';
import { generate } from './generate.ts';
import { lab } from './lab.ts';
import { mutate } from './mutate.ts';
import { predict } from './predict.ts';
import { record } from './record.ts';
import { run } from './run.ts';
import { report } from './report.ts';
import { review } from './review.ts';

export const COMMANDS: Command[] = [run, predict, checkTrace, check, generate, conform, record, mutate, diagram, diff, report, review, lab];
