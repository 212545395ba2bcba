import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A host that accepts the TCP connection and never answers; it notes when it first accepted and first lost one. */
export class HangingHost {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  accepted = 0;
  firstAcceptAt = 0;
  firstCloseAt = 0;
  url = '';

  constructor() {
    this.server = createServer((socket) => {
      this.accepted++;
      this.firstAcceptAt ||= Date.now();
      this.sockets.add(socket);
      socket.resume(); // reads (and drops) the request, so it sees the client hang up
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.firstCloseAt ||= Date.now();
        this.sockets.delete(socket);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * A host that does not complete the TCP handshake: a process listening with a backlog of one that never
 * accepts (its event loop is blocked), whose accept queue two connections fill. A further SYN is dropped by
 * the kernel, so a client's connect hangs, as with a host that has gone away.
 */
export class UnreachableHost {
  private child?: ChildProcess;
  private readonly fillers: Socket[] = [];
  url = '';

  async start(): Promise<this> {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').createServer();
         s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
           process.stdout.write(s.address().port + '\\n');
           setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 50);
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    this.child = child;
    const port = await new Promise<number>((resolve) =>
      child.stdout!.once('data', (data) => resolve(Number(String(data).trim()))),
    );
    await new Promise((resolve) => setTimeout(resolve, 200)); // its event loop is blocked by then
    for (let i = 0; i < 2; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      this.fillers.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    this.url = `http://127.0.0.1:${port}/hooks`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.fillers) socket.destroy();
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child!.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}
