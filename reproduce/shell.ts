/** POSIX-shell quoting and word splitting for the commands the suite records and re-runs. */
import { UsageError } from '../lib/core/errors';

/** One word, quoted only when it needs to be. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./+@:,=%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** POSIX-shell words of a recorded command (quotes and backslashes), for running it in-process. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i];
    if (/\s/.test(ch)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else if (ch === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`unbalanced quote in command: ${command}`);
      cur = (cur ?? '') + command.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      let s = '';
      for (; j < command.length && command[j] !== '"'; j++) s += command[j] === '\\' && /["\\$`]/.test(command[j + 1] ?? '') ? command[++j] : command[j];
      if (j >= command.length) throw new UsageError(`unbalanced quote in command: ${command}`);
      cur = (cur ?? '') + s;
      i = j;
    } else if (ch === '\\' && i + 1 < command.length) {
      cur = (cur ?? '') + command[++i];
    } else {
      cur = (cur ?? '') + ch;
    }
  }
  if (cur !== undefined) words.push(cur);
  return words;
}
