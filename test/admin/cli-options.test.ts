import test from 'ava';
import { Command } from 'commander';
import { rmSync } from 'node:fs';
import { collect, REQUIRED_OPTIONS_MARKED } from '../../src/admin/cli-options.ts';
import { runAdmin, tempDir, testConfig } from '../helpers/instance.ts';

// --help never opens the database, so none is created here
const dir = tempDir();
const config = testConfig(dir);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** The help text with wrapped descriptions joined back into one line each. */
async function help(...argv: string[]): Promise<string> {
  const run = await runAdmin(config, [...argv, '--help']);
  if (run.code !== 0) throw new Error(`${argv.join(' ')} --help: ${run.stderr}`);
  return run.stdout.replace(/\n {10,}/g, ' ');
}

/** Every command that runs something, as found through --help. */
async function leaves(): Promise<string[][]> {
  const commandsOf = (text: string) => [...(text.split('Commands:\n')[1] ?? '').matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
  const found: string[][] = [];
  for (const group of commandsOf(await help())) {
    const text = await help(group);
    const subcommands = commandsOf(text);
    if (subcommands.length === 0) found.push([group]);
    for (const sub of subcommands) found.push([group, sub]);
  }
  return found;
}

/** The options each command must mark as required; every other command marks none. */
const REQUIRED: Record<string, string[]> = {
  'service-account create': ['--app <client_id>'],
  'cert add': ['--file <pem>', '--app <client_id>'],
  'cert bind': ['--app <client_id>'],
  'cert unbind': ['--app <client_id>'],
  'jwks add': ['--app <client_id>'],
  'policy add': ['--expression <cel>', '--app <client_id>'],
};

test('--help marks exactly the required options of every command "(required)"', async (t) => {
  const commands = await leaves();
  t.true(commands.length > 30, commands.map((c) => c.join(' ')).join(', '));
  for (const command of commands) {
    const text = await help(...command);
    const marked = [...text.matchAll(/^ {2}(--\S+(?: <[^>]+>)?) .*\(required\)$/gm)].map((m) => m[1]);
    t.deepEqual(marked, REQUIRED[command.join(' ')] ?? [], command.join(' '));
  }
  t.true(commands.some((c) => c.join(' ') === 'cert bind') && commands.some((c) => c.join(' ') === 'app delete'));
});

test('--help shows positional arguments as <arg> in the usage line', async (t) => {
  t.regex(await help('app', 'delete'), /^Usage: admin app delete \[options\] <client_id>$/m);
  t.regex(await help('service-account', 'update'), /^Usage: admin service-account update \[options\] <username>$/m);
  t.regex(await help('cert', 'unbind'), /^Usage: admin cert unbind \[options\] <name>$/m);
});

test('a required option is marked and its empty default is not shown; other options keep their defaults', (t) => {
  const command = new Command('x').configureHelp(REQUIRED_OPTIONS_MARKED);
  command.requiredOption('--app <id>', 'an application', collect, []).requiredOption('--file <path>').option('--mode <m>', 'a mode', 'all').option('--plain <p>', 'plain');
  const text = command.helpInformation();
  t.regex(text, /--app <id> +an application \(required\)\n/);
  t.regex(text, /--file <path> +\(required\)\n/);
  t.regex(text, /--mode <m> +a mode \(default: "all"\)\n/);
  t.regex(text, /--plain <p> +plain\n/);
});
