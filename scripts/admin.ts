// npm run admin -- <command> [options]   (see README: "Admin CLI")
import '../src/wasm-baseline.ts';
import { ConfigError, environmentWithDotenv, loadConfig } from '../src/config.ts';
import { runAdminCli } from '../src/admin/cli.ts';

try {
  const config = loadConfig(environmentWithDotenv());
  process.exitCode = await runAdminCli(process.argv.slice(2), config, process.stdout, process.stderr);
} catch (error) {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`tokenmint: configuration: ${problem}`);
  } else {
    // never a stack trace: one line for the operator
    console.error(`error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  process.exitCode = 1;
}
