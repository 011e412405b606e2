import { endQuietlyOnClosedPipe } from '../apps/cli/closed-pipe.js';
import { main } from '../apps/cli/main.js';

endQuietlyOnClosedPipe(process.stdout);
process.exitCode = await main(process.argv.slice(2));
