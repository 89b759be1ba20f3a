/** Every CLI command. Add a command: write src/cli/commands/<name>.ts and add it here. */
import type { Command } from '../command.ts';
import { checkTrace } from './checkTrace.ts';
import { predict } from './predict.ts';

export const COMMANDS: Command[] = [predict, checkTrace];
