// The AI Automation review panel: pending, accepted and dismissed suggestions, the evidence
// of each day by day, an edit replayed on the job's own data, create / undo / dismiss.
// Plain custom elements and Home Assistant's CSS variables: no build step, nothing fetched
// from elsewhere. It talks to the integration's ai_automation/... websocket commands only.

const DOMAIN = "ai_automation";
const STRINGS = `component.${DOMAIN}.selector.panel.options.`;
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const TABS = ["pending", "accepted", "dismissed"];
const POLL_MS = 1500;
const PREVIEW_DELAY_MS = 300;
const ACT_HIT = 1;
const ACT_MISSED = 2;

const esc = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const pct = (value) => `${Math.round((Number(value) || 0) * 100)} %`;

function hhmm(minutes) {
  const m = ((Math.round(minutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

class AiAutomationPanel extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._strings = null;
    this._data = null;
    this._tab = "pending";
    this._open = null; // the suggestion shown in full
    this._review = null; // {id, original, result, edits, busy, error}
    this._message = null;
    this._error = null;
    this._poll = null;
    this._waitingFor = null; // the job the run button started, until it is over
    this._previewTimer = null;
    this._dismissing = false;
    this._started = false;
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (first) this._start();
  }

  get hass() {
    return this._hass;
  }

  set narrow(narrow) {
    this._narrow = narrow;
    this.toggleAttribute("narrow", Boolean(narrow));
  }

  set panel(panel) {
    this._panel = panel;
  }

  set route(route) {
    this._route = route;
    // Followed a link to a suggestion (a notification) while the panel was open already.
    if (this._data) this._openFromAddress();
  }

  _openFromAddress() {
    const wanted = new URLSearchParams(window.location.search).get("suggestion");
    if (wanted && wanted !== this._linked) {
      this._linked = wanted;
      this._openSuggestion(wanted);
    }
  }

  disconnectedCallback() {
    clearTimeout(this._poll);
    clearTimeout(this._previewTimer);
    this._poll = null;
  }

  connectedCallback() {
    if (this._hass && this._started && !this._poll && (this._data?.running || this._waitingFor)) this._schedulePoll();
  }

  // --- strings ---------------------------------------------------------------------

  t(key, vars = {}) {
    const raw = (this._strings && this._strings[STRINGS + key]) || key;
    return raw.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
  }

  async _loadStrings() {
    const result = await this._hass.callWS({
      type: "frontend/get_translations",
      language: this._hass.language || "en",
      category: "selector",
      integration: [DOMAIN],
    });
    this._strings = result.resources || {};
  }

  // --- data ------------------------------------------------------------------------

  async _start() {
    this._started = true;
    this._render();
    try {
      await this._loadStrings();
    } catch (err) {
      this._strings = {};
    }
    try {
      const users = await this._hass.callWS({ type: "config/auth/list" });
      this._users = Object.fromEntries(users.map((u) => [u.id, u.name]));
    } catch (err) {
      this._users = {};
    }
    await this._refresh();
    this._openFromAddress();
  }

  async _refresh() {
    try {
      this._data = await this._hass.callWS({ type: `${DOMAIN}/suggestions` });
      this._error = null;
    } catch (err) {
      this._error = err.message || String(err);
    }
    const waiting = this._waitingFor;
    if (waiting && !this._data?.running && this._data?.last_job?.id === waiting) {
      this._waitingFor = null;
      this._message = this.t("run_finished");
    }
    if (this._data?.running || this._waitingFor) this._schedulePoll();
    const lists = JSON.stringify(TABS.map((tab) => this._data?.[tab]));
    if (lists === this._lists && this.shadowRoot.querySelector(".toolbar")) {
      // Only the job's state moved (a poll while it runs): keep the form as it is.
      this._renderChrome();
      return;
    }
    this._lists = lists;
    this._render();
  }

  _renderChrome() {
    const root = this.shadowRoot;
    const run = root.querySelector(".run");
    run.disabled = Boolean(this._data?.running);
    run.textContent = this._data?.running ? this.t("running") : this.t("run_now");
    root.querySelector(".job").innerHTML = this._jobLine();
    const alerts = root.querySelector(".alerts");
    alerts.innerHTML = this._alerts();
    root.querySelector(".insights").innerHTML = this._insights();
    this._bindInsights();
  }

  _alerts() {
    return (
      (this._error ? `<div class="alert error">${esc(this._error)}</div>` : "") +
      (this._message ? `<div class="alert info" role="status">${esc(this._message)}</div>` : "")
    );
  }

  _schedulePoll() {
    clearTimeout(this._poll);
    this._poll = setTimeout(() => {
      this._poll = null;
      this._refresh();
    }, POLL_MS);
  }

  _record(id) {
    if (!this._data) return null;
    for (const tab of TABS) {
      const found = (this._data[tab] || []).find((r) => r.id === id);
      if (found) return { record: found, tab };
    }
    return null;
  }

  async _openSuggestion(id) {
    const found = this._record(id);
    if (!found) return;
    this._tab = found.tab;
    this._open = id;
    this._dismissing = false;
    this._review = { id, original: null, result: null, edits: {}, busy: true, error: null };
    this._render();
    try {
      const result = await this._hass.callWS({ type: `${DOMAIN}/review`, suggestion_id: id });
      if (this._review?.id !== id) return;
      this._review = { ...this._review, original: result, result, busy: false };
    } catch (err) {
      if (this._review?.id !== id) return;
      this._review = { ...this._review, busy: false, error: err.message || String(err) };
    }
    this._render();
    this.shadowRoot.querySelector(".detail")?.scrollIntoView({ block: "nearest" });
  }

  _edit(field, value) {
    const review = this._review;
    if (!review?.original?.form) return;
    const form = review.original.form;
    const edits = { ...review.edits };
    const group = ["conditions", "parts"].find((name) => field.startsWith(`${name}.`));
    if (group) {
      // A condition kept or not, a part done or left out: only what differs is an edit.
      const name = field.slice(group.length + 1);
      const changed = { ...(edits[group] || {}) };
      if (form[group][name] === value) delete changed[name];
      else changed[name] = value;
      if (Object.keys(changed).length) edits[group] = changed;
      else delete edits[group];
    } else if (JSON.stringify(form[field]) === JSON.stringify(value)) {
      delete edits[field];
    } else {
      edits[field] = value;
    }
    this._review = { ...review, edits };
    clearTimeout(this._previewTimer);
    this._previewTimer = setTimeout(() => this._preview(), PREVIEW_DELAY_MS);
  }

  async _preview() {
    const review = this._review;
    if (!review) return;
    const edits = review.edits;
    this._review = { ...review, busy: true };
    this._renderDetailStatus();
    const msg = { type: `${DOMAIN}/review`, suggestion_id: review.id };
    if (Object.keys(edits).length) msg.form = edits;
    try {
      const result = await this._hass.callWS(msg);
      if (this._review?.id !== review.id || this._review.edits !== edits) return;
      this._review = { ...this._review, result, busy: false, error: null };
    } catch (err) {
      if (this._review?.id !== review.id || this._review.edits !== edits) return;
      this._review = { ...this._review, busy: false, error: err.message || String(err) };
    }
    this._renderDetail();
  }

  async _act(type, extra = {}) {
    const id = this._open;
    this._message = null;
    try {
      const msg = { type: `${DOMAIN}/${type}`, suggestion_id: id, ...extra };
      await this._hass.callWS(msg);
      this._message =
        type === "accept"
          ? this.t(extra.enabled === false ? "created_off" : "created")
          : type === "undo"
            ? this.t("undone")
            : this.t("dismissed_message");
      this._dismissing = false;
      await this._refresh();
      await this._openSuggestion(id);
    } catch (err) {
      this._review = { ...this._review, error: err.message || String(err) };
      this._renderDetail();
    }
  }

  async _run() {
    this._message = null;
    try {
      const started = await this._hass.callWS({ type: `${DOMAIN}/run` });
      this._waitingFor = started.job_id;
    } catch (err) {
      this._error = err.message || String(err);
    }
    await this._refresh();
  }

  _navigate(path) {
    window.history.pushState(null, "", path);
    window.dispatchEvent(new CustomEvent("location-changed", { detail: { replace: false } }));
  }

  // --- insights on the home's own automations (read-only) ----------------------------
  // The last job's insights: automations that duplicate or contradict each other or a
  // pending suggestion, each linked to the automation editor. Nothing here changes them.

  _insights() {
    const insights = this._data?.last_job?.insights || [];
    if (!insights.length) return "";
    return `<section class="own" aria-labelledby="own-title">
      <h2 id="own-title">${esc(this.t("insights_title"))}</h2>
      <div class="note">${esc(this.t("insights_note"))}</div>
      <ul class="own-list">${insights.map((insight) => this._insight(insight)).join("")}</ul>
    </section>`;
  }

  _insight(insight) {
    const text = this.t(`insight_${insight.kind}`, {
      target: this._name(insight.target),
      when: this._insightWhen(insight.detail || {}),
    });
    const parties = (insight.automations || []).map((automation) => this._insightAutomation(automation));
    if (insight.suggestion_id) parties.push(this._insightSuggestion(insight));
    return `<li class="insight ${esc(insight.kind)}">
      <div><span class="chip">${esc(this.t(`insight_kind_${insight.kind}`))}</span> ${esc(text)}</div>
      <ul class="parties">${parties.join("")}</ul>
    </li>`;
  }

  _insightWhen(detail) {
    if (detail.trigger === "time")
      return this.t("insight_when_time", { time: [...new Set(detail.times || [])].join(" / ") });
    if (detail.trigger === "sun") return this.t("insight_when_sun", { event: this.t(`sun_${detail.event}`) });
    if (detail.trigger === "state") {
      const states = (detail.to_states || []).map((state) => this._state(state.replace(/^device:/, "")));
      return this.t("insight_when_state", { entity: this._name(detail.entity_id), state: states.join(" / ") });
    }
    return "";
  }

  _insightAction(service) {
    const key = `insight_action_${String(service || "").split(".")[1] || ""}`;
    const worded = this.t(key);
    return worded === key ? service || "" : worded;
  }

  _insightAutomation(automation) {
    const name = esc(automation.alias || this._name(automation.entity_id));
    const link = automation.id
      ? `<a href="/config/automation/edit/${encodeURIComponent(automation.id)}" data-edit="${esc(automation.id)}">${name}</a>`
      : `${name} <span class="note">${esc(this.t("insight_no_id"))}</span>`;
    return `<li>${link} · ${esc(this._insightAction(automation.service))}</li>`;
  }

  _insightSuggestion(insight) {
    const id = insight.suggestion_id;
    const found = this._record(id);
    const title = esc(found?.record?.title || id);
    const link = found ? `<a href="?suggestion=${encodeURIComponent(id)}" data-suggestion="${esc(id)}">${title}</a>` : title;
    return `<li>${esc(this.t("insight_suggestion"))} ${link} · ${esc(this._insightAction(insight.detail?.suggestion_service))}</li>`;
  }

  _bindInsights() {
    const own = this.shadowRoot.querySelector(".own");
    if (!own) return;
    // A plain click stays in the app; a middle or modified click opens a new tab as usual.
    const plain = (ev) => !(ev.button || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey);
    own.querySelectorAll("[data-edit]").forEach((el) =>
      el.addEventListener("click", (ev) => {
        if (!plain(ev)) return;
        ev.preventDefault();
        this._navigate(`/config/automation/edit/${encodeURIComponent(el.dataset.edit)}`);
      })
    );
    own.querySelectorAll("[data-suggestion]").forEach((el) =>
      el.addEventListener("click", (ev) => {
        if (!plain(ev)) return;
        ev.preventDefault();
        this._openSuggestion(el.dataset.suggestion);
      })
    );
  }

  // --- rendering -------------------------------------------------------------------

  _name(entityId) {
    const state = this._hass?.states?.[entityId];
    return state?.attributes?.friendly_name || entityId;
  }

  _when(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return date.toLocaleString(this._hass?.locale?.language || this._hass?.language || undefined, {
      dateStyle: "medium",
      timeStyle: "short",
    });
  }

  _who(userId) {
    if (!userId) return this.t("someone");
    const user = (this._users || {})[userId];
    return user || this.t("someone");
  }

  _kind(record) {
    const trigger = record.automation?.triggers?.[0] || {};
    if (trigger.trigger === "time") return this.t("kind_time", { time: String(trigger.at || "").slice(0, 5) });
    if (trigger.trigger === "sun") return this.t("kind_sun");
    if (trigger.for && trigger.entity_id === record.automation?.actions?.[0]?.target?.entity_id)
      return this.t("kind_held");
    return this.t("kind_state", { entity: this._name(trigger.entity_id) });
  }

  _render() {
    const root = this.shadowRoot;
    const data = this._data;
    const counts = Object.fromEntries(TABS.map((tab) => [tab, (data?.[tab] || []).length]));
    root.innerHTML = `
      <style>${STYLE}</style>
      <div class="toolbar">
        <button class="menu" aria-label="${esc(this.t("menu"))}" title="${esc(this.t("menu"))}">
          <svg viewBox="0 0 24 24"><path d="M3,6H21V8H3V6M3,11H21V13H3V11M3,16H21V18H3V16Z"/></svg>
        </button>
        <div class="title">AI Automation</div>
        <button class="run primary" ${data?.running ? "disabled" : ""}>${esc(
          data?.running ? this.t("running") : this.t("run_now")
        )}</button>
      </div>
      <div class="content">
        <div class="alerts">${this._alerts()}</div>
        <div class="job" role="status">${this._jobLine()}</div>
        <div class="tabs" role="tablist">
          ${TABS.map(
            (tab) => `<button role="tab" class="tab ${tab === this._tab ? "active" : ""}" data-tab="${tab}"
              aria-selected="${tab === this._tab}">${esc(this.t(`tab_${tab}`))} <span class="count">${counts[tab]}</span></button>`
          ).join("")}
        </div>
        <div class="list">${data ? this._list() : `<div class="empty">${esc(this.t("loading"))}</div>`}</div>
        <div class="insights">${this._insights()}</div>
      </div>`;
    root.querySelector(".menu").addEventListener("click", () =>
      this.dispatchEvent(new Event("hass-toggle-menu", { bubbles: true, composed: true }))
    );
    root.querySelector(".run").addEventListener("click", () => this._run());
    root.querySelectorAll(".tab").forEach((el) =>
      el.addEventListener("click", () => {
        this._tab = el.dataset.tab;
        this._open = null;
        this._review = null;
        this._render();
      })
    );
    root.querySelectorAll(".item-head").forEach((el) =>
      el.addEventListener("click", () => {
        const id = el.closest(".item").dataset.id;
        if (this._open === id) {
          this._open = null;
          this._review = null;
          this._render();
        } else this._openSuggestion(id);
      })
    );
    this._bindDetail();
    this._bindInsights();
  }

  _jobLine() {
    const data = this._data;
    if (!data) return "";
    if (data.running) return esc(this.t(`phase_${data.phase || "fetch"}`));
    const job = data.last_job;
    if (!job) return esc(this.t("no_job"));
    return esc(
      this.t("last_job", {
        when: this._when(job.finished_at || job.started_at),
        status: this.t(`status_${job.status}`),
        patterns: job.patterns ?? 0,
        suggestions: job.suggestions ?? 0,
        days: job.days_analysed ?? job.lookback_days ?? 0,
      })
    );
  }

  _list() {
    const records = this._data[this._tab] || [];
    if (!records.length) return `<div class="empty">${esc(this.t(`empty_${this._tab}`))}</div>`;
    return records
      .map((record) => {
        const open = record.id === this._open;
        const backtest = record.backtest || {};
        return `<div class="item ${open ? "open" : ""}" data-id="${esc(record.id)}">
          <div class="item-head" role="button" tabindex="0" aria-expanded="${open}">
            <div class="item-title">${esc(record.title || record.automation?.alias)}</div>
            <div class="item-evidence">${esc(record.evidence || "")}</div>
            <div class="chips">
              <span class="chip">${esc(this._kind(record))}</span>
              ${backtest.would_have_fired ? `<span class="chip">${esc(this.t("precision", { value: pct(backtest.precision) }))}</span>` : ""}
              ${this._decisionChip(record)}
            </div>
          </div>
          ${open ? `<div class="detail">${this._detail(record)}</div>` : ""}
        </div>`;
      })
      .join("");
  }

  _decisionChip(record) {
    if (record.status === "accepted")
      return `<span class="chip ok">${esc(this.t("accepted_by", { who: this._who(record.accepted_by), when: this._when(record.accepted_at) }))}</span>`;
    if (record.status === "dismissed") {
      const until = record.until ? this.t("until", { when: this._when(record.until) }) : this.t("for_good");
      const reason = record.dismiss_reason ? ` · ${record.dismiss_reason}` : "";
      return `<span class="chip">${esc(this.t("dismissed_by", { who: this._who(record.dismissed_by), when: this._when(record.dismissed_at) }))} · ${esc(until)}${esc(reason)}</span>`;
    }
    return "";
  }

  _detail(record) {
    const review = this._review;
    if (!review || review.id !== record.id || (!review.result && review.busy))
      return `<div class="empty">${esc(this.t("loading"))}</div>`;
    const result = review.result;
    if (!result) return `<div class="alert error">${esc(review.error)}</div>`;
    return `
      <div class="status-line">${this._backtestLine(result)}</div>
      <div class="charts">${this._charts(result, record)}</div>
      ${record.status === "accepted" ? "" : this._form(result.form, record)}
      <details class="yaml" ${record.status === "accepted" ? "" : "open"}>
        <summary>${esc(this.t("yaml"))}</summary>
        <pre>${esc(result.yaml)}</pre>
      </details>
      <div class="error-line">${review.error ? `<div class="alert error">${esc(review.error)}</div>` : ""}</div>
      <div class="actions">${this._actions(record)}</div>`;
  }

  _backtestLine(result) {
    if (!result.backtest) return esc(this.t("no_evidence"));
    const b = result.backtest;
    return esc(
      this.t("backtest_line", {
        fired: b.would_have_fired,
        matched: b.matched,
        precision: pct(b.precision),
        missed: b.missed,
      })
    ) + (this._review?.busy ? ` <span class="busy">${esc(this.t("updating"))}</span>` : "");
  }

  _charts(result, record) {
    if (!result.chart?.length) return "";
    const lag = record.pattern?.lag_s;
    const lagLine =
      record.pattern?.type === "co_occurrence" && lag != null
        ? `<div class="note">${esc(this.t("lag_line", { lag: Math.round(lag), p90: Math.round(record.pattern.lag_p90_s ?? lag) }))}</div>`
        : "";
    const legend = `<div class="legend">
        <span><i class="mark fire hit"></i>${esc(this.t("legend_fired_hit"))}</span>
        <span><i class="mark fire miss"></i>${esc(this.t("legend_fired_miss"))}</span>
        <span><i class="mark act hit"></i>${esc(this.t("legend_act_hit"))}</span>
        <span><i class="mark act missed"></i>${esc(this.t("legend_act_missed"))}</span>
        <span><i class="mark act other"></i>${esc(this.t("legend_act_other"))}</span>
        <span><i class="mark day no-data"></i>${esc(this.t("legend_no_data"))}</span>
        <span><i class="mark day away"></i>${esc(this.t("legend_away"))}</span>
      </div>`;
    const charts = result.chart
      .map((part) => {
        const label = record.pattern?.parts
          ? this.t("part_title", { name: this._name(part.entity_id), state: this._state(part.to_state) })
          : this.t("direction", { state: this._state(part.to_state) });
        const title = result.chart.length > 1 || record.pattern?.parts ? `<div class="chart-title">${esc(label)}</div>` : "";
        return `${title}${this._chart(part.days)}`;
      })
      .join("");
    return `${charts}${lagLine}${legend}`;
  }

  _span(days) {
    // The hours the routine lives in (what fired, what you did that counts), an hour either
    // side; the whole day when that is most of it.
    const minutes = [];
    for (const day of days) {
      for (const [minute] of day.fired) minutes.push(minute);
      for (const [minute, outcome] of day.acts) if (outcome !== 0) minutes.push(minute);
    }
    if (!minutes.length) return [0, 1440];
    const start = Math.max(0, Math.floor((Math.min(...minutes) - 60) / 60) * 60);
    const end = Math.min(1440, Math.ceil((Math.max(...minutes) + 60) / 60) * 60);
    if (end - start > 16 * 60) return [0, 1440];
    if (end - start < 4 * 60) {
      const middle = (start + end) / 2;
      const from = Math.max(0, Math.min(1440 - 240, Math.round(middle / 60 - 2) * 60));
      return [from, from + 240];
    }
    return [start, end];
  }

  _chart(days) {
    const rowH = 12;
    const labelW = 74;
    const plotW = 600;
    const width = labelW + plotW + 8;
    const top = 16;
    const height = top + days.length * rowH + 4;
    const [from, to] = this._span(days);
    const x = (minute) => labelW + ((minute - from) / (to - from)) * plotW;
    const inside = (minute) => minute >= from && minute <= to;
    const step = to - from <= 6 * 60 ? 60 : 180;
    const locale = this._hass?.locale?.language || this._hass?.language || undefined;
    const dayFormat = new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "numeric" });
    const parts = [];
    for (let m = from; m <= to; m += step) {
      parts.push(`<line class="grid" x1="${x(m)}" x2="${x(m)}" y1="${top - 4}" y2="${height - 2}"/>`);
      parts.push(`<text class="axis" x="${x(m)}" y="${top - 6}" text-anchor="middle">${hhmm(m)}</text>`);
    }
    days.forEach((day, i) => {
      const y = top + i * rowH;
      const label = dayFormat.format(new Date(`${day.date}T12:00:00`));
      parts.push(`<text class="label" x="${labelW - 6}" y="${y + rowH - 3}" text-anchor="end">${esc(label)}</text>`);
      if (day.status !== "ok") {
        const text = this.t(day.status === "away" ? "legend_away" : "legend_no_data");
        parts.push(`<rect class="day ${day.status === "away" ? "away" : "no-data"}" x="${labelW}" y="${y + 1}" width="${plotW}" height="${rowH - 2}"><title>${esc(label)}: ${esc(text)}</title></rect>`);
      }
      for (const [minute, agreed] of day.fired) {
        if (!inside(minute)) continue;
        const cls = agreed ? "hit" : "miss";
        const text = this.t(agreed ? "legend_fired_hit" : "legend_fired_miss");
        parts.push(`<rect class="fire ${cls}" x="${x(minute) - 1.5}" y="${y + 1}" width="3" height="${rowH - 2}"><title>${esc(label)} ${hhmm(minute)}: ${esc(text)}</title></rect>`);
      }
      for (const [minute, outcome] of day.acts) {
        if (!inside(minute)) continue;
        const cls = outcome === ACT_HIT ? "hit" : outcome === ACT_MISSED ? "missed" : "other";
        const text = this.t(outcome === ACT_HIT ? "legend_act_hit" : outcome === ACT_MISSED ? "legend_act_missed" : "legend_act_other");
        parts.push(`<circle class="act ${cls}" cx="${x(minute)}" cy="${y + rowH / 2}" r="3"><title>${esc(label)} ${hhmm(minute)}: ${esc(text)}</title></circle>`);
      }
    });
    return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(this.t("chart_label"))}">${parts.join("")}</svg>`;
  }

  _value(field) {
    const review = this._review;
    if (field in review.edits) return review.edits[field];
    return review.original.form[field];
  }

  _form(form, record) {
    if (!form) return `<div class="note">${esc(this.t("not_editable"))}</div>`;
    const edits = this._review.edits;
    const fields = [];
    if (form.trigger === "time")
      fields.push(`<label>${esc(this.t("field_time"))}<input type="time" data-field="time" value="${esc(this._value("time"))}"></label>`);
    if (form.trigger === "sun")
      fields.push(`<label>${esc(this.t("field_sun_offset", { event: this.t(`sun_${form.sun_event}`) }))}<input type="number" min="-360" max="360" step="1" data-field="sun_offset_min" value="${esc(this._value("sun_offset_min"))}"></label>`);
    if (form.trigger === "state" || form.trigger === "held")
      fields.push(`<label>${esc(this.t(form.trigger === "held" ? "field_held" : "field_for"))}<input type="number" min="${form.trigger === "held" ? 1 : 0}" max="86400" step="1" data-field="for_s" value="${esc(this._value("for_s"))}"></label>`);
    if ("back_for_s" in form)
      fields.push(`<label>${esc(this.t("field_back_for"))}<input type="number" min="0" max="86400" step="1" data-field="back_for_s" value="${esc(this._value("back_for_s"))}"></label>`);
    if (!form.parts) fields.push(this._target(form));
    fields.push(`<label>${esc(this.t("field_name"))}<input type="text" maxlength="255" data-field="alias" value="${esc(this._value("alias"))}"></label>`);
    const days = this._value("weekdays");
    const dayNames = WEEKDAYS.map((_, i) => {
      const monday = new Date(Date.UTC(2024, 0, 1 + i, 12)); // 2024-01-01 was a Monday
      return new Intl.DateTimeFormat(this._hass?.locale?.language || this._hass?.language || undefined, { weekday: "short", timeZone: "UTC" }).format(monday);
    });
    const weekdays = `<fieldset class="weekdays"><legend>${esc(this.t("field_weekdays"))}</legend>${WEEKDAYS.map(
      (day, i) => `<label class="day"><input type="checkbox" data-day="${day}" ${days.includes(day) ? "checked" : ""}>${esc(dayNames[i])}</label>`
    ).join("")}</fieldset>`;
    const conditions = Object.keys(form.conditions)
      .map((name) => {
        const checked = name in (edits.conditions || {}) ? edits.conditions[name] : form.conditions[name];
        const pattern = record.pattern || {};
        const vars = {
          start: pattern.window?.[0] || "",
          end: pattern.window?.[1] || "",
          state: this._stateName(record),
          who: !pattern.presence || pattern.presence === "anyone" ? this.t("someone_home") : this._name(pattern.presence),
        };
        return `<label class="condition"><input type="checkbox" data-condition="${name}" ${checked ? "checked" : ""}>${esc(this.t(`condition_${name}`, vars))}</label>`;
      })
      .join("");
    return `<div class="form">
      <div class="fields">${fields.join("")}</div>
      ${this._parts(form, record)}
      ${weekdays}
      ${conditions ? `<fieldset class="conditions"><legend>${esc(this.t("field_conditions"))}</legend>${conditions}</fieldset>` : ""}
    </div>`;
  }

  _target(form) {
    const domain = form.target.split(".")[0];
    const original = this._review.original.form.target;
    const choices = Object.keys(this._hass.states)
      .filter((id) => id.startsWith(`${domain}.`))
      .sort((a, b) => this._name(a).localeCompare(this._name(b)));
    if (!choices.includes(original)) choices.unshift(original);
    const target = this._value("target");
    return `<label>${esc(this.t("field_target"))}<select data-field="target">${choices
      .map((id) => `<option value="${esc(id)}" ${id === target ? "selected" : ""}>${esc(this._name(id))} (${esc(id)})</option>`)
      .join("")}</select></label>`;
  }

  _parts(form, record) {
    // Routines done together: each part can be left out (one at least stays).
    if (!form.parts) return "";
    const edits = this._review.edits.parts || {};
    const rows = (record.pattern?.parts || [])
      .map((part) => {
        const id = part.entity_id;
        const checked = id in edits ? edits[id] : form.parts[id];
        const label = this.t("part_title", { name: this._name(id), state: this._state(part.to_state) });
        return `<label class="condition"><input type="checkbox" data-part="${esc(id)}" ${checked ? "checked" : ""}>${esc(label)} <span class="note">${esc(this.t("part_usual", { time: part.time || "" }))}</span></label>`;
      })
      .join("");
    return `<fieldset class="parts"><legend>${esc(this.t("field_parts"))}</legend>${rows}</fieldset>`;
  }

  _state(state) {
    return state === "off" ? this.t("state_off") : state === "on" ? this.t("state_on") : state || "";
  }

  _stateName(record) {
    // Both ways (on and back off): either state.
    const states = [record.pattern?.to_state, record.pattern?.back?.to_state].filter(Boolean);
    return states.map((state) => this._state(state)).join(" / ");
  }

  _actions(record) {
    if (record.status === "accepted") {
      return `<button class="primary" data-action="open">${esc(this.t("open_editor"))}</button>
        <button data-action="undo">${esc(this.t("undo"))}</button>`;
    }
    const dismiss = this._dismissing
      ? `<div class="dismiss">
          <label>${esc(this.t("dismiss_for"))}<select data-dismiss="days">
            <option value="">${esc(this.t("for_good"))}</option>
            ${[7, 30, 90].map((d) => `<option value="${d}">${esc(this.t("days", { days: d }))}</option>`).join("")}
          </select></label>
          <label>${esc(this.t("dismiss_reason"))}<input type="text" maxlength="500" data-dismiss="reason"></label>
          <button data-action="dismiss-confirm">${esc(this.t("dismiss"))}</button>
          <button data-action="dismiss-cancel">${esc(this.t("cancel"))}</button>
        </div>`
      : `<button data-action="dismiss">${esc(this.t("dismiss"))}</button>`;
    return `<button class="primary" data-action="create">${esc(this.t("create"))}</button>
      <button data-action="create-off">${esc(this.t("create_off"))}</button>
      ${record.status === "dismissed" ? "" : dismiss}`;
  }

  _renderDetailStatus() {
    const line = this.shadowRoot.querySelector(".status-line");
    if (line && this._review?.result) line.innerHTML = this._backtestLine(this._review.result);
  }

  _renderDetail() {
    const detail = this.shadowRoot.querySelector(".detail");
    const found = this._open && this._record(this._open);
    if (!detail || !found) return this._render();
    // Keep the form as the user is typing in it: only the replayed parts are redrawn.
    detail.querySelector(".status-line").innerHTML = this._review.result ? this._backtestLine(this._review.result) : "";
    const charts = detail.querySelector(".charts");
    if (charts && this._review.result) charts.innerHTML = this._charts(this._review.result, found.record);
    const pre = detail.querySelector(".yaml pre");
    if (pre && this._review.result && found.record.status !== "accepted") pre.textContent = this._review.result.yaml;
    detail.querySelector(".error-line").innerHTML = this._review.error
      ? `<div class="alert error">${esc(this._review.error)}</div>`
      : "";
  }

  _bindDetail() {
    const detail = this.shadowRoot.querySelector(".detail");
    if (!detail) return;
    detail.querySelectorAll("[data-field]").forEach((el) => {
      const field = el.dataset.field;
      const read = () => (el.type === "number" ? Number(el.value) : el.value);
      el.addEventListener(el.tagName === "SELECT" ? "change" : "input", () => {
        if (el.type === "number" && (el.value === "" || !el.checkValidity())) return;
        if (field === "time" && !el.value) return;
        if (field === "alias" && !el.value.trim()) return;
        this._edit(field, read());
      });
    });
    detail.querySelectorAll("[data-day]").forEach((el) =>
      el.addEventListener("change", () => {
        const days = WEEKDAYS.filter((d) => detail.querySelector(`[data-day="${d}"]`).checked);
        if (!days.length) {
          el.checked = true; // at least one day
          return;
        }
        this._edit("weekdays", days);
      })
    );
    detail.querySelectorAll("[data-condition]").forEach((el) =>
      el.addEventListener("change", () => this._edit(`conditions.${el.dataset.condition}`, el.checked))
    );
    detail.querySelectorAll("[data-part]").forEach((el) =>
      el.addEventListener("change", () => {
        const kept = [...detail.querySelectorAll("[data-part]")].filter((box) => box.checked);
        if (!kept.length) {
          el.checked = true; // at least one part
          return;
        }
        this._edit(`parts.${el.dataset.part}`, el.checked);
      })
    );
    detail.querySelectorAll("[data-action]").forEach((el) =>
      el.addEventListener("click", () => this._onAction(el.dataset.action))
    );
  }

  _onAction(action) {
    const found = this._record(this._open);
    if (!found) return;
    const edits = this._review?.edits || {};
    const form = Object.keys(edits).length ? { form: edits } : {};
    if (action === "create") this._act("accept", { enabled: true, ...form });
    else if (action === "create-off") this._act("accept", { enabled: false, ...form });
    else if (action === "undo") this._act("undo");
    else if (action === "open") this._navigate(`/config/automation/edit/${encodeURIComponent(found.record.automation.id)}`);
    else if (action === "dismiss") {
      this._dismissing = true;
      this._render();
    } else if (action === "dismiss-cancel") {
      this._dismissing = false;
      this._render();
    } else if (action === "dismiss-confirm") {
      const root = this.shadowRoot;
      const days = root.querySelector('[data-dismiss="days"]').value;
      const reason = root.querySelector('[data-dismiss="reason"]').value.trim();
      const extra = {};
      if (days) extra.days = Number(days);
      if (reason) extra.reason = reason;
      this._act("dismiss", extra);
    }
  }
}

const STYLE = `
  :host {
    display: block;
    min-height: 100%;
    background: var(--primary-background-color);
    color: var(--primary-text-color);
    font-family: var(--paper-font-body1_-_font-family, var(--ha-font-family-body, Roboto, sans-serif));
    font-size: 14px;
  }
  .toolbar {
    display: flex; align-items: center; gap: 8px; height: var(--header-height, 56px); padding: 0 12px;
    background: var(--app-header-background-color, var(--primary-color));
    color: var(--app-header-text-color, var(--text-primary-color, #fff));
    border-bottom: var(--app-header-border-bottom, none); box-sizing: border-box;
  }
  .toolbar .title { flex: 1; font-size: 20px; font-weight: 400; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .menu { display: none; background: none; border: none; color: inherit; padding: 8px; cursor: pointer; }
  :host([narrow]) .menu { display: inline-flex; }
  .menu svg { width: 24px; height: 24px; fill: currentColor; }
  button {
    font: inherit; border-radius: 4px; padding: 6px 14px; cursor: pointer;
    border: 1px solid var(--divider-color, #ccc); background: var(--card-background-color, #fff); color: var(--primary-color);
  }
  button.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); border-color: var(--primary-color); }
  .toolbar button.primary { background: var(--card-background-color, #fff); color: var(--primary-color); border-color: transparent; }
  button[disabled] { opacity: 0.6; cursor: default; }
  .content { max-width: 1000px; margin: 0 auto; padding: 16px; box-sizing: border-box; }
  :host([narrow]) .content { padding: 8px; }
  .job { color: var(--secondary-text-color); margin: 4px 0 12px; }
  .alert { padding: 8px 12px; border-radius: 4px; margin-bottom: 12px; }
  .alert.error { background: rgba(219, 68, 55, 0.12); color: var(--error-color, #db4437); }
  .alert.info { background: rgba(3, 169, 244, 0.12); color: var(--primary-text-color); }
  .tabs { display: flex; gap: 4px; border-bottom: 1px solid var(--divider-color, #ddd); margin-bottom: 12px; overflow-x: auto; }
  .tab { border: none; border-bottom: 2px solid transparent; border-radius: 0; background: none; color: var(--secondary-text-color); padding: 10px 14px; }
  .tab.active { color: var(--primary-color); border-bottom-color: var(--primary-color); }
  .own { margin-top: 24px; }
  .own h2 { font-size: 16px; font-weight: 500; margin: 0 0 4px; }
  .own-list, .parties { list-style: none; padding: 0; margin: 8px 0 0; }
  .insight { padding: 10px 16px; margin-bottom: 8px; border-radius: var(--ha-card-border-radius, 12px); border: 1px solid var(--divider-color, #e0e0e0); background: var(--card-background-color, #fff); }
  .insight.contradiction .chip { background: rgba(255, 152, 0, 0.18); }
  .parties li { margin-top: 4px; }
  .own a { color: var(--primary-color); }
  .count { display: inline-block; min-width: 18px; padding: 0 5px; border-radius: 9px; background: var(--secondary-background-color, #eee); color: var(--primary-text-color); font-size: 12px; }
  .item {
    background: var(--card-background-color, #fff); border-radius: var(--ha-card-border-radius, 12px);
    box-shadow: var(--ha-card-box-shadow, none); border: 1px solid var(--divider-color, #e0e0e0);
    margin-bottom: 8px; overflow: hidden;
  }
  .item-head { padding: 12px 16px; cursor: pointer; }
  .item-title { font-size: 16px; font-weight: 500; }
  .item-evidence { color: var(--secondary-text-color); margin-top: 2px; }
  .chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
  .chip { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: var(--secondary-background-color, #eee); color: var(--primary-text-color); }
  .chip.ok { background: rgba(67, 160, 71, 0.15); }
  .detail { padding: 0 16px 16px; border-top: 1px solid var(--divider-color, #e0e0e0); }
  .status-line { margin: 12px 0 8px; font-weight: 500; }
  .busy { color: var(--secondary-text-color); font-weight: 400; }
  .chart { width: 100%; height: auto; display: block; }
  .chart-title { margin-top: 8px; color: var(--secondary-text-color); }
  .chart .grid { stroke: var(--divider-color, #ddd); stroke-width: 0.5; }
  .chart .axis, .chart .label { fill: var(--secondary-text-color); font-size: 9px; }
  .chart .day.no-data, .mark.day.no-data { fill: var(--secondary-background-color, #eee); background: var(--secondary-background-color, #eee); opacity: 0.9; }
  .chart .day.away, .mark.day.away { fill: rgba(255, 152, 0, 0.18); background: rgba(255, 152, 0, 0.18); }
  .chart .fire.hit { fill: var(--success-color, #43a047); opacity: 0.45; }
  .chart .fire.miss { fill: var(--warning-color, #ffa600); opacity: 0.8; }
  .chart .act.hit { fill: var(--success-color, #43a047); }
  .chart .act.missed { fill: var(--error-color, #db4437); }
  .chart .act.other { fill: var(--disabled-text-color, #999); }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; color: var(--secondary-text-color); font-size: 12px; margin: 6px 0 10px; }
  .mark { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
  .mark.act { border-radius: 50%; }
  .mark.act.hit, .mark.fire.hit { background: var(--success-color, #43a047); }
  .mark.fire.hit { opacity: 0.45; width: 4px; }
  .mark.fire.miss { background: var(--warning-color, #ffa600); width: 4px; }
  .mark.act.missed { background: var(--error-color, #db4437); }
  .mark.act.other { background: var(--disabled-text-color, #999); }
  .note { color: var(--secondary-text-color); margin: 4px 0; }
  .form { margin: 8px 0; }
  .fields { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 10px; }
  label { display: flex; flex-direction: column; gap: 4px; color: var(--secondary-text-color); font-size: 12px; }
  input, select {
    font: inherit; font-size: 14px; padding: 6px 8px; border-radius: 4px; color: var(--primary-text-color);
    background: var(--input-fill-color, var(--secondary-background-color, #f5f5f5)); border: 1px solid var(--divider-color, #ccc);
  }
  fieldset { border: none; padding: 0; margin: 10px 0 0; display: flex; flex-wrap: wrap; gap: 6px 14px; }
  legend { color: var(--secondary-text-color); font-size: 12px; margin-bottom: 4px; width: 100%; }
  label.day, label.condition { flex-direction: row; align-items: center; font-size: 14px; color: var(--primary-text-color); }
  .yaml pre {
    background: var(--code-editor-background-color, var(--secondary-background-color, #f5f5f5)); padding: 10px; border-radius: 4px;
    overflow-x: auto; font-size: 12px; white-space: pre; max-height: 320px;
  }
  .yaml summary { cursor: pointer; color: var(--secondary-text-color); margin-top: 8px; }
  .actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; align-items: flex-end; }
  .dismiss { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; }
  .empty { color: var(--secondary-text-color); padding: 24px 8px; text-align: center; }
`;

if (!customElements.get("ai-automation-panel")) customElements.define("ai-automation-panel", AiAutomationPanel);
