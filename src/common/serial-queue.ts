/**
 * Runs async tasks one at a time, in call order. Detection uses it so that two ingests touching the same
 * device never reconcile its alerts from interleaved snapshots: each run reads everything committed before it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);

    return result;
  }
}
