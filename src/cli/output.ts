// Where a command's output goes. With --json, stdout carries one JSON object per line and nothing
// else; otherwise it carries the human summary lines. Notes and the progress bar go to stderr, the
// bar only when stderr is a terminal (a log file gets the summary lines, not 500 redraws).

/** Redraw the progress bar at most this often. */
const REDRAW_MS = 100;

/** What a command writes to: process.stdout and process.stderr, or a test's collectors. */
export interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  stdout: TextStream;
  stderr: TextStream;
}

export class Output {
  readonly progress: ProgressBar | null;
  private readonly stdout: TextStream;
  private readonly stderr: TextStream;

  constructor(
    readonly json: boolean,
    io: Io,
  ) {
    this.stdout = io.stdout;
    this.stderr = io.stderr;
    this.progress = io.stderr.isTTY ? new ProgressBar(io.stderr) : null;
  }

  /** One JSON line with --json; nothing otherwise. */
  event(name: string, fields: Record<string, unknown>): void {
    if (this.json) this.stdout.write(`${JSON.stringify({ event: name, ...fields }, finite)}\n`);
  }

  /** A human line on stdout, without --json. */
  line(text = ''): void {
    this.progress?.clear();
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** A remark for the person at the terminal (stderr; never in the JSON stream). */
  note(text: string): void {
    this.progress?.clear();
    this.stderr.write(`${text}\n`);
  }
}

/** JSON has no NaN or Infinity: they become null rather than invalid JSON. */
function finite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export interface ProgressState {
  label: string;
  done: number;
  total: number;
  samplesPerSec: number;
  loss: number;
}

export class ProgressBar {
  private lastDraw = 0;
  private shown = false;
  private started = 0;

  constructor(private readonly stream: TextStream) {}

  /** Starts timing a new run of steps (for the ETA). */
  start(): void {
    this.started = performance.now();
    this.lastDraw = 0;
  }

  update(s: ProgressState): void {
    const now = performance.now();
    if (now - this.lastDraw < REDRAW_MS && s.done < s.total) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const eta = s.done > 0 ? (elapsed / s.done) * (s.total - s.done) : NaN;
    const tail = ` ${s.done}/${s.total}  ${rate(s.samplesPerSec)} samples/s  loss ${s.loss.toFixed(4)}  ETA ${duration(eta)}`;
    const columns = this.stream.columns || 80;
    const barWidth = Math.max(10, Math.min(40, columns - s.label.length - tail.length - 4));
    const filled = Math.round((barWidth * s.done) / s.total);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}`;
    // Never wider than the terminal: a wrapped line cannot be redrawn in place.
    this.stream.write(`\r\x1b[2K${`${s.label} ${bar}${tail}`.slice(0, columns - 1)}`);
    this.shown = true;
  }

  /** Erases the bar so that a line can be printed in its place. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}

/** 0.98765 → "98.77%"; null or NaN → "—". */
export function percent(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(2)}%`;
}

/** 18200 → "18.2k". */
export function rate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '—';
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(1)}M` : perSecond >= 1e3 ? `${(perSecond / 1e3).toFixed(1)}k` : perSecond.toFixed(0);
}

/** Seconds as "42s" or "3m07s". */
function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
