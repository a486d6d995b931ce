// The command-center dashboard: plain JS over the tracker's API, no libraries, no build step.
"use strict";

const TEXT = {
  zh: { title: "网格通 · 区指挥中心", signin: "登录", token: "工作人员令牌", signout: "退出", from: "开始", to: "结束",
    apply: "查询", csv_cases: "导出案件 CSV", csv_indicators: "导出指标 CSV", trend: "每日受理趋势",
    map: "网格按期处置率", good: "≥90%", nodata: "无数据", by_area: "分区指标", breaches: "超时未办", recent: "最新案件",
    back: "← 返回总览", holders: "办理人", timeline: "时间线", area: "区域", district: "全区", overdue: "超时",
    hours: "小时", case: "案件", state: "状态", category: "类别", tier: "类型", reported: "上报时间", owner: "当前办理人",
    deadline: "时限", due: "到期", bad_token: "令牌无效或已吊销", previous: "上期", none: "—", lang: "English",
    parallel: "并行", since: "起",
    received: "受理量", accepted: "立案数", dispatch_accuracy: "准确派遣率", response_rate: "响应率",
    on_time_rate: "按期处置率", closure_rate: "结案率", rework_rate: "返工率", extension_rate: "延期率",
    satisfaction_rate: "满意率", resolution_time_p50: "处置时长中位数(小时)", resolution_time_p90: "处置时长P90(小时)",
    breaches_open: "未办超时", breaches_total: "超时总数", escalations: "升级次数",
    merged: "合并重复件",
    acknowledge: "签收", resolve: "办结", csv_hotspots: "导出热点 CSV", growing: "增长最快的类别",
    concentrated: "集中突出问题", this_period: "本期", growth: "增量", growth_rate: "增幅", cluster_size: "涉及案件",
    no_growth: "没有达到最低案件数且在增长的类别", min_count: "最低案件数", new: "新增", no_clusters: "暂无集中突出问题" },
  en: { title: "griddesk · District command center", signin: "Sign in", token: "Staff token", signout: "Sign out",
    from: "From", to: "To", apply: "Apply", csv_cases: "Cases CSV", csv_indicators: "Indicators CSV",
    trend: "Reports per day", map: "Grids by on-time rate", good: "≥90%", nodata: "no data", by_area: "By area",
    breaches: "Overdue (SLA breaches)", recent: "Latest cases", back: "← Back to overview", holders: "Holders",
    timeline: "Timeline", area: "Area", district: "District", overdue: "Overdue", hours: "h", case: "Case",
    state: "State", category: "Category", tier: "Tier", reported: "Reported", owner: "Owner", deadline: "Deadline",
    due: "Due", bad_token: "Invalid or revoked token", previous: "previous", none: "—", lang: "中文",
    parallel: "parallel", since: "since",
    received: "Received", accepted: "Accepted", dispatch_accuracy: "Dispatch accuracy", response_rate: "Response rate",
    on_time_rate: "On-time rate", closure_rate: "Closure rate", rework_rate: "Rework rate",
    extension_rate: "Extension rate", satisfaction_rate: "Satisfaction", resolution_time_p50: "Resolution p50 (h)",
    resolution_time_p90: "Resolution p90 (h)", breaches_open: "Open breaches", breaches_total: "Breaches",
    escalations: "Escalations", merged: "Merged duplicates", acknowledge: "acknowledge", resolve: "resolve", csv_hotspots: "Hot spots CSV",
    growing: "Fastest-growing categories", concentrated: "Concentrated problems", this_period: "this period",
    growth: "growth", growth_rate: "growth rate", cluster_size: "cases", no_growth: "no category with the minimum count is growing",
    min_count: "minimum count", new: "new", no_clusters: "no concentrated problems" },
};
const CATEGORY = {
  zh: { sanitation: "环境卫生", facility: "公共设施", utility: "水电气暖", safety: "安全隐患", security: "社会治安",
    dispute: "矛盾纠纷", special: "特殊群体", service: "公共服务代办", construction: "违章建设", parking: "停车交通",
    property: "物业服务", greenery: "绿化", civility: "文明创建", info: "信息采集", other: "其他" },
  en: { sanitation: "Sanitation", facility: "Public facilities", utility: "Utilities", safety: "Safety hazards",
    security: "Public security", dispute: "Disputes", special: "Special groups", service: "Services on behalf",
    construction: "Illegal construction", parking: "Parking and traffic", property: "Property services",
    greenery: "Greenery", civility: "Civility", info: "Information collection", other: "Other" },
};
const HEADLINE = ["received", "on_time_rate", "closure_rate", "satisfaction_rate", "response_rate",
  "dispatch_accuracy", "resolution_time_p50", "breaches_open", "escalations"];
const TABLE = ["received", "accepted", "on_time_rate", "closure_rate", "rework_rate", "satisfaction_rate",
  "resolution_time_p50", "breaches_open"];
const NEXT_LEVEL = { district: "street", street: "community", community: "grid" };
const state = { lang: localStorage.getItem("griddesk.lang") || "zh", token: localStorage.getItem("griddesk.token"),
  me: null, path: [] };

const $ = (id) => document.getElementById(id);
const t = (key) => (TEXT[state.lang][key] ?? key);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v); else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child ?? "");
  return node;
};
const pct = (v) => (v === null || v === undefined ? t("none") : `${(v * 100).toFixed(1)}%`);
const fmt = (name, v) => (name.endsWith("_rate") || name === "dispatch_accuracy" ? pct(v) : (v ?? t("none")));
const category = (code) => (code ? (CATEGORY[state.lang][code] ?? code) : "");
const when = (iso) => (iso ? new Date(iso).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false }) : "");

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (response.status === 401) { signOut(); throw new Error("unauthorized"); }
  if (!response.ok) throw new Error(`${response.status} ${path}`);
  return response.json();
}

function period() {
  const q = new URLSearchParams();
  if ($("from").value) q.set("from", $("from").value);
  if ($("to").value) q.set("to", $("to").value);
  return q;
}

function currentOrg() { return state.path.length ? state.path[state.path.length - 1] : null; }

function translate() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  $("lang").textContent = t("lang");
  document.title = t("title");
}

function show(section) {
  for (const id of ["signin", "overview", "case"]) $(id).hidden = id !== section;
  $("signout").hidden = section === "signin";
}

function signOut() {
  localStorage.removeItem("griddesk.token");
  state.token = null; state.me = null;
  $("who").textContent = "";
  show("signin");
}

async function signIn(token) {
  state.token = token;
  try {
    state.me = await api("/api/v1/me");
  } catch (error) {
    $("signin-error").textContent = t("bad_token");
    return;
  }
  localStorage.setItem("griddesk.token", token);
  $("who").textContent = `${state.me.name} · ${state.me.org_code}`;
  state.path = [];
  route();
}

async function loadOverview() {
  show("overview");
  const org = currentOrg();
  const q = period();
  if (org) q.set("org", org.code);
  const [summary, series] = await Promise.all([api(`/api/v1/indicators?${q}`), api(`/api/v1/indicators/series?${q}`)]);
  renderHeadline(summary);
  renderTrend(series.items);
  await Promise.all([loadBreakdown(), loadHotspots(), loadBreaches(), loadCases()]);
  $("csv-cases").href = `/api/v1/cases.csv?${q}`;
  $("csv-indicators").href = `/api/v1/indicators.csv?${q}`;
  $("csv-hotspots").href = `/api/v1/hotspots.csv?${hotspotQuery()}`;
}

function renderHeadline(summary) {
  const box = $("headline");
  box.replaceChildren();
  for (const name of HEADLINE) {
    const value = summary.indicators[name];
    const before = summary.previous[name];
    box.append(el("div", { class: "card", "data-testid": `indicator-${name}` },
      el("div", { class: "label" }, t(name)), el("div", { class: "value" }, String(fmt(name, value))),
      el("div", { class: "change" }, `${t("previous")} ${fmt(name, before)}`)));
  }
}

function renderTrend(items) {
  const svg = $("trend");
  svg.replaceChildren();
  const max = Math.max(1, ...items.map((i) => i.indicators.received));
  const step = 560 / Math.max(1, items.length - 1);
  const points = items.map((i, n) => `${20 + n * step},${180 - (i.indicators.received / max) * 160}`);
  const ns = "http://www.w3.org/2000/svg";
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", "#b3261e"); line.setAttribute("stroke-width", "2");
  const axis = document.createElementNS(ns, "line");
  Object.entries({ x1: 20, y1: 180, x2: 580, y2: 180, stroke: "#999" }).forEach(([k, v]) => axis.setAttribute(k, v));
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", 22); label.setAttribute("y", 16); label.setAttribute("font-size", "12");
  label.textContent = `max ${max}`;
  svg.append(axis, line, label);
}

async function loadBreakdown() {
  const org = currentOrg();
  const level = NEXT_LEVEL[org ? org.level : (state.me.level === "district" ? "district" : state.me.level)];
  const crumbs = $("crumbs");
  crumbs.replaceChildren(el("a", { href: "#", onclick: (e) => { e.preventDefault(); state.path = []; loadOverview(); } },
    state.me.level === "district" ? t("district") : state.me.org_code));
  state.path.forEach((unit, n) => crumbs.append(" › ", el("a", { href: "#", "data-testid": `crumb-${unit.code}`,
    onclick: (e) => { e.preventDefault(); state.path = state.path.slice(0, n + 1); loadOverview(); } }, unit.name)));
  const table = $("breakdown");
  table.tHead.replaceChildren(el("tr", {}, el("th", {}, t("area")), ...TABLE.map((n) => el("th", {}, t(n)))));
  table.tBodies[0].replaceChildren();
  const gridLevel = org ? org.code : null;
  if (!level) { renderMap([]); return; }
  const q = period();
  q.set("level", level);
  if (org) q.set("org", org.code);
  const rows = (await api(`/api/v1/indicators/breakdown?${q}`)).items;
  for (const row of rows) {
    const drill = NEXT_LEVEL[row.level];
    table.tBodies[0].append(el("tr", { class: drill ? "link" : "", "data-testid": `row-${row.code}`,
      onclick: () => { if (drill) { state.path.push(row); loadOverview(); } } },
      el("td", {}, row.name), ...TABLE.map((n) => el("td", {}, String(fmt(n, row.indicators[n]))))));
  }
  const gq = period(); gq.set("level", "grid");
  if (gridLevel) gq.set("org", gridLevel);
  renderMap((await api(`/api/v1/indicators/breakdown?${gq}`)).items);
}

function renderMap(grids) {
  const svg = $("map");
  svg.replaceChildren();
  const shapes = grids.filter((g) => g.polygon_geojson).map((g) => ({ grid: g, ring: JSON.parse(g.polygon_geojson).coordinates[0] }));
  if (!shapes.length) return;
  const xs = shapes.flatMap((s) => s.ring.map((p) => p[0])); const ys = shapes.flatMap((s) => s.ring.map((p) => p[1]));
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min(380 / (x1 - x0 || 1), 240 / (y1 - y0 || 1));
  const ns = "http://www.w3.org/2000/svg";
  for (const { grid, ring } of shapes) {
    const poly = document.createElementNS(ns, "polygon");
    poly.setAttribute("points", ring.map(([x, y]) => `${10 + (x - x0) * scale},${250 - (y - y0) * scale}`).join(" "));
    const rate = grid.indicators.on_time_rate;
    const colour = rate === null ? "var(--none)" : rate >= 0.9 ? "var(--good)" : rate >= 0.7 ? "var(--fair)" : "var(--poor)";
    poly.setAttribute("fill", colour); poly.setAttribute("stroke", "#fff"); poly.setAttribute("data-testid", `grid-${grid.code}`);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${grid.name} ${t("on_time_rate")} ${pct(rate)}`;
    poly.append(title);
    svg.append(poly);
  }
}

function hotspotQuery() {
  // the categories of the level the table below drills to (a grid compares its own)
  const org = currentOrg();
  const q = period(); q.set("limit", "10");
  q.set("level", NEXT_LEVEL[org ? org.level : state.me.level] || "grid");
  if (org) q.set("org", org.code);
  return q;
}

async function loadHotspots() {
  const result = await api(`/api/v1/hotspots?${hotspotQuery()}`);
  const table = $("growing");
  table.tHead.replaceChildren(el("tr", {}, ...["area", "category", "previous", "this_period", "growth", "growth_rate"]
    .map((k) => el("th", {}, t(k)))));
  table.tBodies[0].replaceChildren(...result.growing_categories.map((r) => el("tr",
    { "data-testid": `growing-${r.org.code}-${r.category}` }, el("td", {}, r.org.name ?? r.org.code),
    el("td", {}, category(r.category)), el("td", {}, String(r.previous)), el("td", {}, String(r.received)),
    el("td", {}, `+${r.growth}`), el("td", { class: "rise", title: `+${(r.growth_rate * 100).toFixed(0)}%` },
      r.previous ? `+${(r.growth_rate * 100).toFixed(0)}%` : t("new")))));
  $("growing-note").textContent = result.growing_categories.length ? `${t("min_count")} ${result.min_count}`
    : `${t("no_growth")} (${result.min_count})`;
  const clusters = $("concentrated");
  clusters.tHead.replaceChildren(el("tr", {}, ...["category", "area", "cluster_size", "case"].map((k) => el("th", {}, t(k)))));
  clusters.tBodies[0].replaceChildren(...result.concentrated.map((c) => el("tr", { class: "link",
    onclick: () => openCase(c.cases[0]) }, el("td", {}, category(c.category)),
    el("td", {}, (c.org && (c.org.grid || c.org.community)) || ""), el("td", {}, String(c.size)), el("td", {}, c.cases[0]))));
  $("concentrated-note").textContent = result.concentrated.length ? "" : t("no_clusters");
}

async function loadBreaches() {
  const q = period(); q.set("limit", "20");
  const org = currentOrg(); if (org) q.set("org", org.code);
  const items = (await api(`/api/v1/breaches?${q}`)).items;
  const table = $("breaches");
  table.tHead.replaceChildren(el("tr", {}, ...["case", "category", "deadline", "due", "overdue"].map((k) => el("th", {}, t(k)))));
  table.tBodies[0].replaceChildren(...items.map((b) => el("tr", { class: "link", onclick: () => openCase(b.case_id) },
    el("td", {}, b.case_id), el("td", {}, category(b.category)), el("td", {}, t(b.deadline)), el("td", {}, when(b.due)),
    el("td", { class: "overdue" }, `${b.overdue_hours} ${t("hours")}`))));
}

async function loadCases() {
  const q = period(); q.set("per_page", "15");
  const org = currentOrg(); if (org) q.set("org", org.code);
  const items = (await api(`/api/v1/cases?${q}`)).items;
  const table = $("cases");
  table.tHead.replaceChildren(el("tr", {}, ...["case", "state", "category", "reported"].map((k) => el("th", {}, t(k)))));
  table.tBodies[0].replaceChildren(...items.map((c) => el("tr", { class: "link", "data-testid": `case-${c.case_id}`,
    onclick: () => openCase(c.case_id) }, el("td", {}, c.case_id), el("td", {}, c.state), el("td", {}, category(c.category)),
    el("td", {}, when(c.reported_at)))));
}

async function download(link) {
  // a plain link cannot carry the bearer token: fetch with it, then save the body
  const response = await fetch(link.getAttribute("href"), { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  const a = el("a", { href: url, download: link.dataset.file });
  document.body.append(a); a.click(); a.remove();
  URL.revokeObjectURL(url);
}

function openCase(id) { location.hash = `#case/${encodeURIComponent(id)}`; }

async function loadCase(id) {
  show("case");
  const c = await api(`/api/v1/cases/${encodeURIComponent(id)}`);
  $("case-title").textContent = `${t("case")} ${c.case_id} · ${c.state}`;
  const facts = { category: category(c.category), tier: c.tier, reported: when(c.reported_at),
    owner: c.owner ? `${c.owner.name} (${c.owner.role})` : "", area: Object.values(c.org || {}).join(" / ") };
  $("case-facts").replaceChildren(...Object.entries(facts).flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v ?? "")]));
  $("holders").replaceChildren(...c.holders.map((h) => el("li", {},
    `${h.assignee.name} (${h.assignee.role}) ${t("since")} ${when(h.from)}${h.parallel ? ` · ${t("parallel")}` : ""}`)));
  $("timeline").replaceChildren(...c.timeline.map((e) => el("li", { class: e.refused ? "refused" : "" },
    el("time", {}, when(e.time)), `${e.type}${e.data.by ? ` · ${e.data.by.name}` : ""}${e.data.reason ? ` · ${e.data.reason}` : ""}`)));
}

function route() {
  if (!state.token) { show("signin"); return; }
  if (!state.me) { signIn(state.token); return; }
  const match = location.hash.match(/^#case\/(.+)$/);
  if (match) loadCase(decodeURIComponent(match[1])); else loadOverview();
}

document.addEventListener("DOMContentLoaded", () => {
  translate();
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("griddesk.lang", state.lang);
    translate();
    if (state.me) route();
  });
  $("signin-form").addEventListener("submit", (e) => { e.preventDefault(); $("signin-error").textContent = ""; signIn($("token").value.trim()); });
  $("signout").addEventListener("click", signOut);
  $("apply").addEventListener("click", () => loadOverview());
  for (const id of ["csv-cases", "csv-indicators", "csv-hotspots"]) $(id).addEventListener("click", (e) => { e.preventDefault(); download(e.currentTarget); });
  $("back").addEventListener("click", (e) => { e.preventDefault(); location.hash = ""; });
  window.addEventListener("hashchange", route);
  route();
});
