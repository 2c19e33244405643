import { z } from 'zod';
import { badRequest } from '../../../src/errors/app-error';
import type { TaskTypeSpec } from '../../../src/tasks/types/task-type';

const echoArgsSchema = z.strictObject({ words: z.array(z.string().min(1).max(8)).min(1).max(4) });

/** A throwaway task type for registry, parser and chat tests: `echo <words…>`, alias 回声. */
export const echoType: TaskTypeSpec<z.infer<typeof echoArgsSchema>, { echoed: string }> = {
  name: 'echo',
  summary: '回声 / say the words back',
  usage: 'echo <words…>',
  aliases: ['回声'],
  workerClientType: 'echo-worker',
  argsSchema: echoArgsSchema,
  fromWords(words) {
    const parsed = echoArgsSchema.safeParse({ words: [...words] });
    if (!parsed.success) throw badRequest('echo takes 1-4 words of 1-8 characters.');
    return parsed.data;
  },
  chatSummary: (args) => args.words.join(' '),
  chatResult: (result) => [`> echoed: ${result.echoed}`],
  run: async (args) => ({ echoed: args.words.join(' ') }),
};
