// Every application, by name: what `nooks app` runs and lists.
import { program as db } from './db.js';
import { program as echo } from './echo.js';
import { program as netPeer } from './net-peer.js';
import { program as netTransfer } from './net-transfer.js';
import { program as player } from './player.js';
import { program as recorder } from './recorder.js';
import type { Program } from './program.js';

export const programs: readonly Program[] = [db, echo, player, recorder, netTransfer, netPeer];
