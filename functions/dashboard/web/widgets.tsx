// Small parts every view uses: loading a resource, showing its state, a multi-select, a usage bar.

import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';
import { formatCu } from './format';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  reload(): void;
}

/** Loads `load()` whenever `key` changes; an answer that comes after a newer request started is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const request = ++latest.current;
    setState((previous) => ({ data: previous.data, loading: true }));
    load().then(
      (data) => request === latest.current && setState({ data, loading: false }),
      (error: Error) => request === latest.current && setState({ error, loading: false }),
    );
  }, [key, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function ErrorNote({ error }: { error: Error }) {
  const detail = error instanceof ApiError ? ` (${error.code}${error.field ? `, field ${error.field}` : ''})` : '';
  return (
    <p class="error" role="alert">
      {error.message}
      {detail}
    </p>
  );
}

export function Panel({ title, id, actions, children, busy }: { title: string; id: string; actions?: ComponentChildren; children: ComponentChildren; busy?: boolean }) {
  return (
    <section class="panel" id={id} aria-labelledby={`${id}-title`} aria-busy={busy ? 'true' : 'false'}>
      <header class="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {actions ? <div class="panel-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export interface Choice {
  readonly value: string;
  readonly label: string;
}

/** A labelled multi-select as a disclosure of checkboxes: keyboard-usable as native controls are. */
export function MultiSelect({ label, allLabel, choices, selected, onChange, id }: { label: string; allLabel: string; choices: readonly Choice[]; selected: readonly string[]; onChange(values: string[]): void; id: string }) {
  const summary = selected.length === 0 ? allLabel : selected.length === 1 ? (choices.find((choice) => choice.value === selected[0])?.label ?? selected[0]) : `${selected.length} selected`;
  const known = new Set(choices.map((choice) => choice.value));
  const all = [...choices, ...selected.filter((value) => !known.has(value)).map((value) => ({ value, label: value }))];
  return (
    <details class="multi" id={id}>
      <summary>
        <span class="multi-label">{label}</span> <span class="multi-value" data-testid={`${id}-summary`}>{summary}</span>
      </summary>
      <fieldset>
        <legend class="visually-hidden">{label}</legend>
        {all.length === 0 ? <p class="muted">None in this range.</p> : null}
        {all.map((choice) => (
          <label key={choice.value} class="check">
            <input
              type="checkbox"
              value={choice.value}
              checked={selected.includes(choice.value)}
              onChange={(event) => {
                const checked = (event.currentTarget as HTMLInputElement).checked;
                onChange(checked ? [...selected, choice.value] : selected.filter((value) => value !== choice.value));
              }}
            />
            {choice.label}
          </label>
        ))}
        {selected.length > 0 ? (
          <button type="button" class="link" onClick={() => onChange([])}>
            Clear
          </button>
        ) : null}
      </fieldset>
    </details>
  );
}

export type BarStatus = 'ok' | 'warning' | 'reached';

/** The seed's usage bar: "used / cap CU", amber from 80 % of the cap, red at 100 %. */
export function UsageBar({ usedCu, capCu, status, label }: { usedCu: number; capCu: number | null; status: BarStatus; label: string }) {
  const ratio = capCu === null ? 0 : capCu === 0 ? 1 : Math.min(1, usedCu / capCu);
  const text = capCu === null ? `${formatCu(usedCu)} CU · no cap` : `${formatCu(usedCu)} / ${formatCu(capCu)} CU`;
  return (
    <div class={`usage-bar status-${status}`} data-status={status}>
      <div
        class="track"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={capCu ?? undefined}
        aria-valuenow={usedCu}
        aria-valuetext={`${text}${status === 'ok' ? '' : status === 'warning' ? ', near the cap' : ', cap reached'}`}
      >
        <div class="fill" style={{ width: `${(ratio * 100).toFixed(1)}%` }} />
      </div>
      <span class="bar-text">
        {text}
        {status === 'warning' ? <span class="badge warning">Near cap</span> : status === 'reached' ? <span class="badge reached">Cap reached</span> : null}
      </span>
    </div>
  );
}

/**
 * Pages read by cursor: the cursors of the pages before this one (Previous pops, Next pushes); any change of `query`
 * (a filter, the order) starts over at the first page.
 */
export function useCursorPages(query: string) {
  const [cursors, setCursors] = useState<string[]>([]);
  useEffect(() => setCursors([]), [query]);
  return {
    cursor: cursors[cursors.length - 1],
    number: cursors.length + 1,
    back: () => setCursors(cursors.slice(0, -1)),
    forward: (next: string) => setCursors([...cursors, next]),
  };
}

export function Pager({ label, pages, nextCursor, back, forward, showNumber }: { label: string; pages: ReturnType<typeof useCursorPages>; nextCursor: string | null | undefined; back: string; forward: string; showNumber?: string }) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" disabled={pages.number === 1} onClick={pages.back}>
        {back}
      </button>
      {showNumber ? <span data-testid={showNumber}>Page {pages.number}</span> : null}
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && pages.forward(nextCursor)}>
        {forward}
      </button>
    </nav>
  );
}

/** A labelled select of `values`, with "Any" for none. */
export function AnySelect({ label, values, value, onChange }: { label: string; values: readonly string[]; value: string; onChange(value: string): void }) {
  return (
    <label class="field">
      <span>{label}</span>
      <select value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        <option value="">Any</option>
        {values.map((one) => (
          <option key={one} value={one}>
            {one}
          </option>
        ))}
      </select>
    </label>
  );
}
