import HTTPTypes
import Hummingbird
import NIOCore

/// The panel's stylesheet and script, served from the binary: no CDN, no build step.
enum PanelAssets {
    static func response(_ text: String, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        // Revalidated on every use, so a new binary's assets are picked up at once.
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Live refresh: every `data-refresh` seconds the page's `#live` region is fetched again (from
    /// its `data-live-url`, else the page's own URL) with `?partial=1` and swapped in, unless the tab is hidden or a form field has the focus. A
    /// redirect (the session ended) reloads the page, which leads to the login page. Forms with
    /// `data-confirm` ask first.
    static let javascript = """
        (function () {
          'use strict';

          document.addEventListener('submit', function (event) {
            var form = event.target;
            var question = form.getAttribute && form.getAttribute('data-confirm');
            if (question && !window.confirm(question)) { event.preventDefault(); }
          });

          var live = document.getElementById('live');
          if (!live) { return; }
          var status = document.getElementById('live-status');
          var seconds = parseInt(live.getAttribute('data-refresh'), 10) || 3;
          var busy = false;

          function editing() {
            var active = document.activeElement;
            if (!active) { return false; }
            var tag = active.tagName;
            if (tag === 'TEXTAREA' || tag === 'SELECT') { return true; }
            return tag === 'INPUT' && active.type !== 'submit' && active.type !== 'button' && active.type !== 'hidden';
          }

          function say(state, text) {
            if (!status) { return; }
            status.setAttribute('data-state', state);
            status.textContent = text;
          }

          // A page that answered a POST says which GET its region comes from (data-live-url).
          function partialURL() {
            var url = new URL(live.getAttribute('data-live-url') || window.location.href, window.location.href);
            url.searchParams.delete('notice');
            url.searchParams.set('partial', '1');
            return url.toString();
          }

          function refresh() {
            if (busy) { return; }
            if (document.hidden || editing()) { say('paused', 'Refresh paused while you edit.'); return; }
            busy = true;
            fetch(partialURL(), { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'text/html' } })
              .then(function (response) {
                if (response.redirected) { window.location.reload(); return null; }
                if (!response.ok) { throw new Error('HTTP ' + response.status); }
                return response.text();
              })
              .then(function (html) {
                if (html === null) { return; }
                live.innerHTML = html;
                live.setAttribute('data-refreshed', String(Date.now()));
                say('ok', 'Updated ' + new Date().toLocaleTimeString() + '; refreshes every ' + seconds + ' s.');
              })
              .catch(function (error) {
                say('stale', 'Could not refresh (' + error.message + '); retrying.');
              })
              .then(function () { busy = false; });
          }

          window.setInterval(refresh, seconds * 1000);
        }());

        """

    static let css: String = {
        var css = """
            :root { --ink: #1d2433; --muted: #5b6475; --line: #d9dee7; --bg: #f5f7fa; --card: #fff;
              --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --accent: #2b5fd9; --bar: #e3e8f0; }
            * { box-sizing: border-box; }
            body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
            header.top { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #1d2433; color: #fff; flex-wrap: wrap; }
            header.top a { color: #cfd8ea; text-decoration: none; }
            header.top a:hover, header.top a[aria-current="page"] { color: #fff; text-decoration: underline; }
            .brand { font-weight: 700; font-size: 1.1rem; color: #fff !important; }
            .brand span { font-weight: 400; color: #9fb0d0; }
            nav { display: flex; gap: 1rem; flex-wrap: wrap; }
            form.logout { margin-left: auto; }
            main { padding: 1rem 1.5rem 3rem; max-width: 1600px; }
            .table-wrap { overflow-x: auto; }
            h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
            h2 { font-size: 1.1rem; margin: 0 0 .7rem; }
            h3 { font-size: .95rem; margin: 0 0 .3rem; }
            .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
            table { border-collapse: collapse; width: 100%; }
            th, td { text-align: left; vertical-align: top; padding: .4rem .45rem; border-bottom: 1px solid var(--line); }
            thead th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
            .sub { color: var(--muted); font-size: .85rem; }
            .mono, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
            .badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; background: #e8ebf1; color: var(--ink); }
            .status-healthy, .sched-active, .outcome-candidate, .tenant-active, .ws-running { background: #dcf3e5; color: var(--ok); }
            .status-unhealthy, .sched-cordoned, .ws-creating, .ws-starting, .ws-stopping, .ws-pending { background: #fbefd5; color: var(--warn); }
            .status-offline, .sched-draining, .outcome-excluded, .tenant-suspended, .ws-error { background: #fde2e2; color: var(--bad); }
            .label { display: inline-block; background: #eef2fb; border-radius: 4px; padding: 0 .35rem; margin: .1rem .1rem 0 0; font-size: .8rem; }
            .last-error { color: var(--bad); font-size: .8rem; min-width: 12rem; max-width: 22rem; overflow-wrap: anywhere; }
            td time, td.nowrap { white-space: nowrap; }
            .notice { background: #e6f0ff; border: 1px solid #bcd2fb; padding: .5rem .8rem; border-radius: 6px; }
            .flash-error { background: #fdecec; border: 1px solid #f5b5b5; color: #8a1f1f; padding: .5rem .8rem; border-radius: 6px; }
            .empty { color: var(--muted); }
            .bar-row { display: flex; align-items: center; gap: .4rem; margin: .15rem 0; font-size: .78rem; white-space: nowrap; }
            .bar-label { flex: none; width: 3.3rem; color: var(--muted); }
            .bar { flex: none; position: relative; display: inline-block; width: 4rem; height: .6rem; border-radius: 3px; background: var(--bar); overflow: hidden; }
            .bar .fill { position: absolute; left: 0; top: 0; bottom: 0; background: var(--accent); }
            .bar.high .fill { background: var(--warn); }
            .bar.over .fill { background: var(--bad); }
            .bar-text { color: var(--ink); }
            .nodata { color: var(--muted); font-style: italic; }
            td.actions form, div.actions form { display: inline-block; margin: 0 .2rem .2rem 0; }
            button { font: inherit; padding: .3rem .8rem; border-radius: 5px; border: 1px solid #b8c2d6; background: #fff; cursor: pointer; }
            button:hover { background: #eef2fb; }
            button.danger { color: var(--bad); border-color: #efb4b4; }
            header.top button { background: transparent; color: #cfd8ea; border-color: #4a5570; }
            input, select { font: inherit; padding: .3rem .45rem; border: 1px solid #b8c2d6; border-radius: 5px; width: 100%; }
            input[type="checkbox"] { width: auto; }
            .grid-form { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .7rem 1rem; align-items: end; }
            .grid-form label { display: flex; flex-direction: column; gap: .2rem; font-size: .85rem; color: var(--muted); }
            .grid-form label.check { flex-direction: row; align-items: center; gap: .4rem; }
            .grid-form .wide { grid-column: 1 / -1; }
            .inline-form { display: flex; gap: .8rem; align-items: end; flex-wrap: wrap; margin: .8rem 0; }
            .inline-form label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
            .login { max-width: 26rem; display: flex; flex-direction: column; gap: .8rem; }
            .login label { display: flex; flex-direction: column; gap: .3rem; }
            .counts .badge { margin-right: .2rem; }
            table.figures td, table.figures th { white-space: nowrap; }
            dl.facts { display: grid; grid-template-columns: 9rem 1fr; gap: .3rem 1rem; margin: 0 0 1rem; }
            dl.facts dt { color: var(--muted); }
            dl.facts dd { margin: 0; }
            .capacity-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; margin-bottom: 1rem; }
            .secret code { font-size: 1rem; background: #fff8dc; padding: .3rem .5rem; border-radius: 4px; user-select: all; }
            .reasons .reason { display: inline-block; background: #fdecec; color: #8a1f1f; border-radius: 4px; padding: 0 .35rem; margin: .1rem .2rem .1rem 0; }
            .live-status { color: var(--muted); font-size: .8rem; }
            .live-status[data-state="stale"] { color: var(--bad); }

            """
        // One class per 5 % step of a bar's fill: the policy allows no inline style attributes.
        for step in stride(from: 0, through: 100, by: 5) { css += ".fill.p\(step) { width: \(step)%; }\n" }
        return css
    }()
}
