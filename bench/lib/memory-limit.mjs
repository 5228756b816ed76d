// A memory limit for one bridge process, as a container runtime would impose it: a cgroup of its
// own with a hard limit (cgroup v2 memory.max, or cgroup v1 memory.limit_in_bytes on hosts that
// still mount the v1 memory controller), created next to this process's own cgroup so the
// bridge stays inside whatever limits the host already applies; else `systemd-run --scope -p
// MemoryMax=`; else no limit (said so). Reports the kernel's oom_kill count and the peak usage.
// Needs root. Owns only the cgroup directories it creates, and removes them.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = '/sys/fs/cgroup';

function read(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function field(text, name) {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text ?? '');
  return match ? Number(match[1]) : undefined;
}

/** This process's cgroup paths: the v2 path ("0::/x") and the v1 memory controller's path. */
function ownCgroups() {
  const lines = (read('/proc/self/cgroup') ?? '').trim().split('\n');
  const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3);
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'))?.split(':')[2];
  return { v2, v1 };
}

function tryV2(name, limitBytes) {
  const controllers = read(path.join(ROOT, 'cgroup.controllers'));
  if (!controllers?.split(/\s+/).includes('memory')) return undefined;
  const own = ownCgroups().v2 ?? '/';
  // A cgroup holding processes cannot hand controllers to children (except the root), so try
  // beside our own cgroup, then under the root.
  const parents = [...new Set([path.join(ROOT, path.dirname(own)), ROOT])];
  for (const parent of parents) {
    try {
      if (!read(path.join(parent, 'cgroup.subtree_control'))?.includes('memory')) writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+memory');
      const dir = path.join(parent, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
      if (existsSync(path.join(dir, 'memory.swap.max'))) writeFileSync(path.join(dir, 'memory.swap.max'), '0');
      return {
        kind: 'cgroup v2',
        dir,
        procsFile: path.join(dir, 'cgroup.procs'),
        oomKills: () => field(read(path.join(dir, 'memory.events')), 'oom_kill') ?? 0,
        usageBytes: () => Number(read(path.join(dir, 'memory.current')) ?? 0),
        peakBytes: () => Number(read(path.join(dir, 'memory.peak')) ?? 0),
      };
    } catch {
      // next parent
    }
  }
  return undefined;
}

function tryV1(name, limitBytes) {
  const own = ownCgroups().v1;
  const base = path.join(ROOT, 'memory');
  if (own === undefined || !existsSync(path.join(base, 'memory.limit_in_bytes'))) return undefined;
  try {
    // A child of our own memory cgroup: v1 has no internal-process rule, and the host's limits
    // on our cgroup still count the bridge (use_hierarchy).
    const dir = path.join(base, own, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    try {
      writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    } catch {
      // no swap accounting
    }
    return {
      kind: 'cgroup v1',
      dir,
      procsFile: path.join(dir, 'cgroup.procs'),
      oomKills: () => field(read(path.join(dir, 'memory.oom_control')), 'oom_kill') ?? 0,
      usageBytes: () => Number(read(path.join(dir, 'memory.usage_in_bytes')) ?? 0),
      peakBytes: () => Number(read(path.join(dir, 'memory.max_usage_in_bytes')) ?? 0),
    };
  } catch {
    return undefined;
  }
}

/**
 * A limit of `limitMib` for processes started with `wrap(argv)`. `limitMib` 0: no limit.
 * Fields: kind, wrap(argv) → argv, oomKills(), usageBytes(), peakBytes(), remove(), note.
 */
export function createMemoryLimit(label, limitMib) {
  const none = (note) => ({ kind: 'none', note, limitMib: 0, wrap: (argv) => argv, oomKills: () => undefined, usageBytes: () => undefined, peakBytes: () => undefined, remove() {} });
  if (!limitMib) return none('no memory limit asked for');
  const limitBytes = limitMib * 1048576;
  const name = `langfuse-bridge-bench-${process.pid}-${label}`;
  const cgroup = tryV2(name, limitBytes) ?? tryV1(name, limitBytes);
  if (cgroup) {
    return {
      ...cgroup,
      limitMib,
      note: `${cgroup.kind} ${cgroup.dir}, limit ${limitMib} MiB`,
      // The shell joins the cgroup, then execs the bridge: node starts inside the limit (and
      // sees it, as a container's process does).
      wrap: (argv) => ['/bin/sh', '-c', `echo $$ > '${cgroup.procsFile}' && exec "$@"`, 'sh', ...argv],
      remove() {
        for (let i = 0; i < 20; i++) {
          try {
            rmdirSync(cgroup.dir);
            return;
          } catch {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
          }
        }
      },
    };
  }
  if (read('/proc/1/comm')?.trim() === 'systemd') {
    return {
      kind: 'systemd-run scope',
      limitMib,
      note: `systemd-run --scope -p MemoryMax=${limitMib}M (oom_kill inferred from SIGKILL)`,
      wrap: (argv) => ['systemd-run', '--scope', '--quiet', '-p', `MemoryMax=${limitMib}M`, '-p', 'MemorySwapMax=0', ...argv],
      oomKills: () => undefined,
      usageBytes: () => undefined,
      peakBytes: () => undefined,
      remove() {},
    };
  }
  return none(`could not impose ${limitMib} MiB: no writable cgroup memory controller (needs root) and no systemd`);
}

/** V8's heap limit for a node started inside `limit` (Node sizes it from the cgroup limit). */
export function heapLimitMib(limit) {
  const argv = limit.wrap([process.execPath, '-e', "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit))"]);
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  const bytes = Number(result.stdout);
  return result.status === 0 && bytes > 0 ? Math.round(bytes / 1048576) : undefined;
}
