/// The panel's Mustache templates, compiled into the binary so it renders from any working directory.
///
/// Every value goes through `{{ }}`, which escapes HTML (quotes included, so attributes are safe
/// too). Triple braces are never used. A page named `x` with live data has its live region in
/// `x-live`, which `?partial=1` renders alone.
enum PanelTemplates {
    static let all: [(String, String)] = [
        ("layout", layout), ("csrf", csrf), ("bar", bar), ("error", error), ("login", login),
        ("cluster-figures", clusterFigures), ("workspace-rows", workspaceRows),
        ("servers", servers), ("servers-live", serversLive), ("server", server), ("server-live", serverLive),
        ("cluster", cluster), ("cluster-live", clusterLive), ("workspaces", workspaces), ("workspaces-live", workspacesLive),
        ("tenants", tenants), ("tenants-live", tenantsLive), ("tenant", tenant), ("plans", plans),
        ("audit", audit), ("audit-live", auditLive), ("placement", placement),
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Berth admin</title>
        <link rel="stylesheet" href="/admin/ui/assets/panel.css">
        <script src="/admin/ui/assets/panel.js" defer></script>
        </head>
        <body>
        <header class="top">
        <a class="brand" href="/admin/ui/servers">Berth <span>admin</span></a>
        {{#csrf}}
        <nav>
        <a href="/admin/ui/servers"{{#nav.servers}} aria-current="page"{{/nav.servers}}>Servers</a>
        <a href="/admin/ui/cluster"{{#nav.cluster}} aria-current="page"{{/nav.cluster}}>Cluster</a>
        <a href="/admin/ui/workspaces"{{#nav.workspaces}} aria-current="page"{{/nav.workspaces}}>Workspaces</a>
        <a href="/admin/ui/tenants"{{#nav.tenants}} aria-current="page"{{/nav.tenants}}>Tenants</a>
        <a href="/admin/ui/plans"{{#nav.plans}} aria-current="page"{{/nav.plans}}>Price plans</a>
        <a href="/admin/ui/audit"{{#nav.audit}} aria-current="page"{{/nav.audit}}>Audit log</a>
        <a href="/admin/ui/placement"{{#nav.placement}} aria-current="page"{{/nav.placement}}>Placement dry run</a>
        </nav>
        <form method="post" action="/admin/ui/logout" class="logout">{{>csrf}}<button type="submit" id="logout">Log out</button></form>
        {{/csrf}}
        </header>
        <main>
        <h1>{{title}}</h1>
        {{#notice}}<p class="notice" id="notice" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="flash-error" id="error" role="alert">{{error}}</p>{{/error}}
        {{$content}}{{/content}}
        </main>
        </body>
        </html>

        """

    static let csrf = #"<input type="hidden" name="csrf" value="{{csrf}}">"#

    static let bar = """
        <div class="bar-row" title="{{title}}" data-bar="{{label}}" data-percent="{{percent}}"><span class="bar-label">{{label}}</span><span class="bar {{level}}"><span class="fill p{{fill}}"></span></span><span class="bar-text">{{text}}</span></div>

        """

    static let error = """
        {{<layout}}{{$content}}
        {{#body}}<p class="flash-error" id="error" role="alert">{{message}}</p>{{/body}}
        <p><a href="/admin/ui/servers">Back to the panel</a></p>
        {{/content}}{{/layout}}
        """

    static let login = """
        {{<layout}}{{$content}}
        {{#body}}
        <form method="post" action="/admin/ui/login" class="card login" id="login-form">
        <label>Admin token <input type="password" name="token" id="token" required autocomplete="off" autofocus></label>
        <button type="submit" id="login-submit">Sign in</button>
        </form>
        <p class="sub">The session lasts 12 hours on this browser. The token itself is never stored in the page or the cookie.</p>
        {{/body}}
        {{/content}}{{/layout}}
        """

    static let clusterFigures = """
        {{#cluster}}
        <section class="card cluster" id="cluster">
        <h2>Cluster totals</h2>
        <p class="counts"><span id="cluster-servers" data-value="{{servers}}">{{servers}}</span> servers:
        <span class="badge status-healthy" id="cluster-healthy" data-value="{{healthy}}">{{healthy}} healthy</span>
        <span class="badge status-unhealthy" id="cluster-unhealthy" data-value="{{unhealthy}}">{{unhealthy}} unhealthy</span>
        <span class="badge status-offline" id="cluster-offline" data-value="{{offline}}">{{offline}} offline</span>
        · <span class="badge sched-cordoned" id="cluster-cordoned" data-value="{{cordoned}}">{{cordoned}} cordoned</span>
        <span class="badge sched-draining" id="cluster-draining" data-value="{{draining}}">{{draining}} draining</span></p>
        <table class="figures" id="cluster-figures">
        <thead><tr><th scope="col"></th><th scope="col">Total</th><th scope="col">Reserved</th><th scope="col">Placeable now</th><th scope="col">Engines report</th></tr></thead>
        <tbody>
        {{#rows}}
        <tr data-figure="{{key}}">
        <th scope="row">{{label}}</th>
        <td id="cluster-total-{{key}}" data-value="{{total}}">{{total}}</td>
        <td id="cluster-reserved-{{key}}" data-value="{{reserved}}">{{#reservedBar}}{{>bar}}{{/reservedBar}}</td>
        <td id="cluster-schedulable-{{key}}" data-value="{{schedulable}}">{{schedulable}}</td>
        <td id="cluster-observed-{{key}}" data-value="{{observed}}">{{observedText}}</td>
        </tr>
        {{/rows}}
        </tbody>
        </table>
        </section>
        {{/cluster}}

        """

    static let workspaceRows = """
        <table class="workspaces">
        <thead><tr><th scope="col">Workspace</th><th scope="col">Tenant</th><th scope="col">Status</th><th scope="col">Image</th><th scope="col">CPU</th><th scope="col">Memory</th><th scope="col">Created</th></tr></thead>
        <tbody>
        {{#workspaces}}
        <tr data-workspace-id="{{id}}" data-status="{{status}}">
        <td>{{name}}<div class="sub mono">{{id}}</div>{{#failure}}<div class="last-error">{{failure}}</div>{{/failure}}{{#repository}}<div class="sub mono repository">{{repository}} <span class="badge git-{{gitStatus}}">git {{gitStatus}}</span></div>{{/repository}}{{#gitError}}<div class="last-error">{{gitError}}</div>{{/gitError}}{{#idleStopAt}}<div class="sub idle-deadline">stops if idle at <time datetime="{{idleStopISO}}">{{idleStopAt}}</time></div>{{/idleStopAt}}{{#expiresAt}}<div class="sub">lifetime ends {{expiresAt}}</div>{{/expiresAt}}{{#movingTo}}<div class="sub moving">moving to {{movingTo}}</div>{{/movingTo}}{{#moveError}}<div class="last-error move-error">last move failed: {{moveError}}</div>{{/moveError}}</td>
        <td><a href="/admin/ui/tenants/{{tenantID}}">{{tenant}}</a></td>
        <td><span class="badge ws-{{status}}">{{status}}</span></td>
        <td class="mono">{{image}}</td>
        <td>{{cpu}}</td>
        <td>{{memory}} MB</td>
        <td><time datetime="{{createdISO}}">{{created}}</time></td>
        </tr>
        {{/workspaces}}
        </tbody>
        </table>

        """

    static let servers = """
        {{<layout}}{{$content}}
        <section id="live" data-refresh="3" data-live-url="/admin/ui/servers">
        {{>servers-live}}
        </section>
        <p class="live-status" id="live-status" data-state="idle">Refreshes every 3 seconds.</p>
        {{#body}}
        <section class="card" id="add-server">
        <h2>Add a server</h2>
        {{#addError}}<p class="flash-error" id="add-error" role="alert">{{addError}}</p>{{/addError}}
        {{#form}}
        <form method="post" action="/admin/ui/servers" class="grid-form" id="add-server-form">
        {{>csrf}}
        <label>Name <input name="name" id="server-name" required value="{{name}}" placeholder="ws-eu-1"></label>
        <label>Host <input name="host" id="server-host" required value="{{host}}" placeholder="127.0.0.1"></label>
        <label>Docker port <input name="docker_port" id="server-port" inputmode="numeric" value="{{dockerPort}}" placeholder="2375 (2376 with TLS)"></label>
        <label>Network mode <select name="network_mode" id="server-network-mode">{{#networkModes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/networkModes}}</select></label>
        <label>CPU cores <input name="total_cpu" id="server-cpu" inputmode="decimal" value="{{totalCPU}}" placeholder="2"></label>
        <label>Memory (MB) <input name="total_memory_mb" id="server-memory" inputmode="numeric" value="{{totalMemoryMB}}" placeholder="4096"></label>
        <label>Disk (GB) <input name="total_disk_gb" id="server-disk" inputmode="numeric" value="{{totalDiskGB}}" placeholder="20"></label>
        <label>Max workspaces <input name="max_workspaces" id="server-max-workspaces" inputmode="numeric" value="{{maxWorkspaces}}" placeholder="10"></label>
        <label class="wide">Labels (JSON object) <input name="labels" id="server-labels" value="{{labels}}" placeholder="{&quot;region&quot;: &quot;eu&quot;}"></label>
        <label class="check"><input type="checkbox" name="tls_enabled" id="server-tls" value="on"{{#tls}} checked{{/tls}}> Mutual TLS</label>
        <label class="wide">Certificate folder, for TLS (ca.pem, cert.pem, key.pem) <input name="cert_path" id="server-cert-path" value="{{certPath}}"></label>
        <div class="wide"><button type="submit" id="add-server-submit">Add server</button></div>
        </form>
        {{/form}}
        </section>
        {{/body}}
        {{/content}}{{/layout}}
        """

    static let serversLive = """
        {{#body}}
        {{>cluster-figures}}
        <section class="card">
        <h2>Servers</h2>
        {{^hasServers}}<p class="empty" id="no-servers">No servers yet: add one below.</p>{{/hasServers}}
        {{#hasServers}}
        <div class="table-wrap">
        <table class="servers" id="servers-table">
        <thead><tr><th scope="col">Server</th><th scope="col">Health</th><th scope="col">Scheduling</th><th scope="col">CPU</th><th scope="col">Memory</th><th scope="col">Workspaces</th><th scope="col">Actions</th></tr></thead>
        <tbody>
        {{#servers}}
        <tr data-server-name="{{name}}" data-server-id="{{id}}" data-status="{{status}}" data-schedulable="{{schedulable}}">
        <td><a href="/admin/ui/servers/{{id}}" class="server-link">{{name}}</a><div class="sub mono">{{address}}{{#tls}} · TLS{{/tls}}</div>{{#hasLabels}}<div class="labels">{{#labels}}<span class="label">{{key}}={{value}}</span> {{/labels}}</div>{{/hasLabels}}</td>
        <td><span class="badge status-{{status}}" data-field="status">{{status}}</span>
        <div class="sub">{{#lastCheck}}checked <time datetime="{{lastCheckISO}}">{{lastCheckAgo}}</time>{{/lastCheck}}{{^lastCheck}}not checked yet{{/lastCheck}}</div>
        {{#lastError}}<div class="last-error" data-field="last-error">{{lastError}}</div>{{/lastError}}</td>
        <td><span class="badge sched-{{schedulable}}" data-field="schedulable">{{schedulable}}</span></td>
        <td class="capacity">{{#cpu}}{{>bar}}{{/cpu}}{{#cpuObserved}}{{>bar}}{{/cpuObserved}}{{^cpuObserved}}<div class="bar-row nodata" data-bar="observed">observed: no data</div>{{/cpuObserved}}</td>
        <td class="capacity">{{#memory}}{{>bar}}{{/memory}}{{#memoryObserved}}{{>bar}}{{/memoryObserved}}{{^memoryObserved}}<div class="bar-row nodata" data-bar="observed">observed: no data</div>{{/memoryObserved}}</td>
        <td class="capacity">{{#slots}}{{>bar}}{{/slots}}{{#running}}{{>bar}}{{/running}}{{^running}}<div class="bar-row nodata" data-bar="running">running: no data</div>{{/running}}</td>
        <td class="actions">
        {{#isActive}}<form method="post" action="/admin/ui/servers/{{id}}/cordon">{{>csrf}}<button type="submit" data-action="cordon">Cordon</button></form>{{/isActive}}
        {{^isActive}}<form method="post" action="/admin/ui/servers/{{id}}/uncordon">{{>csrf}}<button type="submit" data-action="uncordon">Uncordon</button></form>{{/isActive}}
        {{^isDraining}}<form method="post" action="/admin/ui/servers/{{id}}/drain" data-confirm="Drain {{name}}? No new workspaces will be placed on it.">{{>csrf}}<button type="submit" data-action="drain">Drain</button></form>{{/isDraining}}
        <form method="post" action="/admin/ui/servers/{{id}}/remove" data-confirm="Remove {{name}} from Berth?">{{>csrf}}<button type="submit" class="danger" data-action="remove">Remove</button></form>
        </td>
        </tr>
        {{/servers}}
        </tbody>
        </table>
        </div>
        <p class="sub legend"><b>reserved</b>: what placed workspaces hold, of the server's total. <b>observed</b>: what Berth's workspace containers used at the last health check, of the server's total (CPU from the second check on). <b>running</b>: containers Docker reports running, of the server's maximum.</p>
        {{/hasServers}}
        </section>
        {{/body}}

        """

    static let server = """
        {{<layout}}{{$content}}
        {{#body}}{{#hasBusy}}
        <div class="flash-error" id="remove-refused" role="alert"><p>The server was not removed: workspaces still hold a place on it. Drain it, then move or delete them.</p>
        <ul>{{#busy}}<li>{{name}} ({{tenant}}, {{status}})</li>{{/busy}}</ul></div>
        {{/hasBusy}}{{/body}}
        <section id="live" data-refresh="3" data-live-url="/admin/ui/servers/{{body.server.id}}">
        {{>server-live}}
        </section>
        <p class="live-status" id="live-status" data-state="idle">Refreshes every 3 seconds.</p>
        {{/content}}{{/layout}}
        """

    static let serverLive = """
        {{#body}}
        {{#server}}
        <section class="card" data-server-name="{{name}}" data-server-id="{{id}}" data-status="{{status}}" data-schedulable="{{schedulable}}" id="server-detail">
        <dl class="facts">
        <dt>Address</dt><dd class="mono">{{address}}{{#tls}} · mutual TLS{{/tls}}</dd>
        <dt>Health</dt><dd><span class="badge status-{{status}}" data-field="status">{{status}}</span> {{#lastCheck}}checked <time datetime="{{lastCheckISO}}">{{lastCheck}}</time>{{/lastCheck}}{{^lastCheck}}not checked yet{{/lastCheck}}</dd>
        <dt>Last error</dt><dd>{{#lastError}}<span class="last-error" data-field="last-error">{{lastError}}</span>{{/lastError}}{{^lastError}}none{{/lastError}}</dd>
        <dt>Scheduling</dt><dd><span class="badge sched-{{schedulable}}" data-field="schedulable">{{schedulable}}</span></dd>
        <dt>Labels</dt><dd>{{#labels}}<span class="label">{{key}}={{value}}</span> {{/labels}}{{^hasLabels}}none{{/hasLabels}}</dd>
        <dt>Docker</dt><dd>{{#dockerVersion}}{{dockerVersion}}{{/dockerVersion}}{{^dockerVersion}}no data{{/dockerVersion}}</dd>
        </dl>
        <div class="capacity-grid">
        <div><h3>CPU</h3>{{#cpu}}{{>bar}}{{/cpu}}{{#cpuObserved}}{{>bar}}{{/cpuObserved}}{{^cpuObserved}}<div class="bar-row nodata">observed: no data</div>{{/cpuObserved}}</div>
        <div><h3>Memory</h3>{{#memory}}{{>bar}}{{/memory}}{{#memoryObserved}}{{>bar}}{{/memoryObserved}}{{^memoryObserved}}<div class="bar-row nodata">observed: no data</div>{{/memoryObserved}}</div>
        <div><h3>Disk</h3>{{#disk}}{{>bar}}{{/disk}}</div>
        <div><h3>Workspaces</h3>{{#slots}}{{>bar}}{{/slots}}{{#running}}{{>bar}}{{/running}}{{^running}}<div class="bar-row nodata">running: no data</div>{{/running}}</div>
        </div>
        <div class="actions">
        {{#isActive}}<form method="post" action="/admin/ui/servers/{{id}}/cordon">{{>csrf}}<input type="hidden" name="back" value="detail"><button type="submit" data-action="cordon">Cordon</button></form>{{/isActive}}
        {{^isActive}}<form method="post" action="/admin/ui/servers/{{id}}/uncordon">{{>csrf}}<input type="hidden" name="back" value="detail"><button type="submit" data-action="uncordon">Uncordon</button></form>{{/isActive}}
        {{^isDraining}}<form method="post" action="/admin/ui/servers/{{id}}/drain" data-confirm="Drain {{name}}? No new workspaces will be placed on it.">{{>csrf}}<input type="hidden" name="back" value="detail"><button type="submit" data-action="drain">Drain</button></form>{{/isDraining}}
        <form method="post" action="/admin/ui/servers/{{id}}/remove" data-confirm="Remove {{name}} from Berth?">{{>csrf}}<button type="submit" class="danger" data-action="remove">Remove</button></form>
        </div>
        </section>
        {{/server}}
        {{#drain}}
        <section class="card" id="drain-progress" data-drain-state="{{state}}">
        <h2>Drain</h2>
        <dl class="facts">
        <dt>State</dt><dd><span class="badge drain-{{state}}" data-field="drain-state">{{state}}</span></dd>
        <dt>Moved off</dt><dd data-field="drain-moved">{{moved}}</dd>
        <dt>Remaining</dt><dd data-field="drain-remaining">{{remaining}}{{#moving}} ({{moving}} moving now){{/moving}}</dd>
        <dt>Deadline</dt><dd>{{#deadline}}<time datetime="{{deadlineISO}}">{{deadline}}</time>{{/deadline}}{{^deadline}}none{{/deadline}}</dd>
        </dl>
        {{#hasFailures}}
        <h3>Could not be moved</h3>
        <ul class="drain-failures">{{#failed}}<li data-workspace-id="{{id}}">{{name}} ({{status}}, {{attempts}} attempts): <span class="last-error">{{error}}</span></li>{{/failed}}</ul>
        {{/hasFailures}}
        </section>
        {{/drain}}
        <section class="card">
        <h2>Workspaces on this server</h2>
        {{#hasWorkspaces}}{{>workspace-rows}}{{/hasWorkspaces}}
        {{^hasWorkspaces}}<p class="empty">No workspaces on this server.</p>{{/hasWorkspaces}}
        </section>
        {{/body}}

        """

    static let cluster = """
        {{<layout}}{{$content}}
        <section id="live" data-refresh="3" data-live-url="/admin/ui/cluster">
        {{>cluster-live}}
        </section>
        <p class="live-status" id="live-status" data-state="idle">Refreshes every 3 seconds.</p>
        {{/content}}{{/layout}}
        """

    static let clusterLive = """
        {{#body}}
        {{>cluster-figures}}
        <section class="card">
        <h2>Workspaces by status</h2>
        <table class="counts-table" id="workspaces-by-status"><tbody>
        {{#workspacesByStatus}}<tr><th scope="row">{{key}}</th><td id="cluster-workspaces-{{key}}" data-value="{{count}}">{{count}}</td></tr>{{/workspacesByStatus}}
        </tbody></table>
        </section>
        {{/body}}

        """

    static let workspaces = """
        {{<layout}}{{$content}}
        <section id="live" data-refresh="3" data-live-url="/admin/ui/workspaces">
        {{>workspaces-live}}
        </section>
        <p class="live-status" id="live-status" data-state="idle">Refreshes every 3 seconds.</p>
        {{/content}}{{/layout}}
        """

    static let workspacesLive = """
        {{#body}}
        {{^hasAny}}<p class="empty" id="no-workspaces">No live workspaces.</p>{{/hasAny}}
        {{#groups}}
        <section class="card" data-group-server="{{serverName}}">
        <h2>{{#serverID}}<a href="/admin/ui/servers/{{serverID}}">{{serverName}}</a>{{/serverID}}{{^serverID}}Not placed{{/serverID}} <span class="sub">{{count}} workspaces</span></h2>
        {{>workspace-rows}}
        </section>
        {{/groups}}
        {{#truncated}}<p class="sub">Showing the newest {{shown}} workspaces.</p>{{/truncated}}
        {{/body}}

        """

    static let tenants = """
        {{<layout}}{{$content}}
        <section id="live" data-refresh="5" data-live-url="/admin/ui/tenants">
        {{>tenants-live}}
        </section>
        <p class="live-status" id="live-status" data-state="idle">Refreshes every 5 seconds.</p>
        {{#body}}
        <section class="card" id="create-tenant">
        <h2>Create a tenant</h2>
        {{#createError}}<p class="flash-error" id="create-error" role="alert">{{createError}}</p>{{/createError}}
        {{#form}}
        <form method="post" action="/admin/ui/tenants" class="grid-form" id="create-tenant-form">
        {{>csrf}}
        <label>Name <input name="name" id="tenant-name" required value="{{name}}" placeholder="acme"></label>
        <label>Max workspaces <input name="max_workspaces" id="tenant-max-workspaces" inputmode="numeric" value="{{maxWorkspaces}}" placeholder="10"></label>
        <label>Max CPU cores <input name="max_cpu" id="tenant-max-cpu" inputmode="decimal" value="{{maxCPU}}" placeholder="8"></label>
        <label>Max memory (MB) <input name="max_memory_mb" id="tenant-max-memory" inputmode="numeric" value="{{maxMemoryMB}}" placeholder="16384"></label>
        <div class="wide"><button type="submit" id="create-tenant-submit">Create tenant</button></div>
        </form>
        {{/form}}
        </section>
        {{/body}}
        {{/content}}{{/layout}}
        """

    static let tenantsLive = """
        {{#body}}
        <section class="card">
        {{^hasTenants}}<p class="empty" id="no-tenants">No tenants yet.</p>{{/hasTenants}}
        {{#hasTenants}}
        <table id="tenants-table">
        <thead><tr><th scope="col">Tenant</th><th scope="col">Status</th><th scope="col">Quota</th><th scope="col">Created</th></tr></thead>
        <tbody>
        {{#tenants}}
        <tr data-tenant-name="{{name}}" data-status="{{status}}">
        <td><a href="/admin/ui/tenants/{{id}}">{{name}}</a></td>
        <td><span class="badge tenant-{{status}}">{{status}}</span></td>
        <td>{{quota}}</td>
        <td><time datetime="{{createdISO}}">{{created}}</time></td>
        </tr>
        {{/tenants}}
        </tbody>
        </table>
        {{/hasTenants}}
        {{#truncated}}<p class="sub">Showing the first {{shown}} tenants by name.</p>{{/truncated}}
        </section>
        {{/body}}

        """

    static let tenant = """
        {{<layout}}{{$content}}
        {{#body}}
        {{#issued}}
        <section class="card secret" id="issued-key">
        <h2>New API key</h2>
        <p>Copy the key now: Berth keeps only its hash and will not show it again.</p>
        <p><code id="issued-secret">{{secret}}</code></p>
        </section>
        {{/issued}}
        {{#tenant}}
        <section class="card" data-tenant-name="{{name}}" data-tenant-id="{{id}}">
        <dl class="facts">
        <dt>Status</dt><dd><span class="badge tenant-{{status}}">{{status}}</span></dd>
        <dt>Quota</dt><dd>{{quota}}</dd>
        <dt>Live workspaces</dt><dd><a href="/admin/ui/workspaces">{{liveWorkspaces}}</a></dd>
        <dt>Created</dt><dd><time datetime="{{createdISO}}">{{created}}</time></dd>
        <dt>Id</dt><dd class="mono">{{id}}</dd>
        </dl>
        </section>
        {{/tenant}}
        <section class="card" id="api-keys">
        <h2>API keys</h2>
        {{^hasKeys}}<p class="empty">No keys yet.</p>{{/hasKeys}}
        {{#hasKeys}}
        <table id="keys-table">
        <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"></th></tr></thead>
        <tbody>
        {{#keys}}
        <tr data-key-id="{{id}}" data-revoked="{{revoked}}">
        <td>{{name}}</td><td class="mono">{{prefix}}…</td><td>{{created}}</td><td>{{#lastUsed}}{{lastUsed}}{{/lastUsed}}{{^lastUsed}}never{{/lastUsed}}</td>
        <td>{{#revokedAt}}revoked {{revokedAt}}{{/revokedAt}}{{^revokedAt}}live{{/revokedAt}}</td>
        <td>{{^revokedAt}}<form method="post" action="/admin/ui/tenants/{{tenantID}}/keys/{{id}}/revoke" data-confirm="Revoke key {{name}}? Applications using it stop working at once.">{{>csrf}}<button type="submit" class="danger" data-action="revoke">Revoke</button></form>{{/revokedAt}}</td>
        </tr>
        {{/keys}}
        </tbody>
        </table>
        {{/hasKeys}}
        {{#keyError}}<p class="flash-error" id="key-error" role="alert">{{keyError}}</p>{{/keyError}}
        {{#tenant}}
        <form method="post" action="/admin/ui/tenants/{{id}}/keys" class="inline-form" id="issue-key-form">
        {{>csrf}}
        <label>Key name <input name="name" id="key-name" required value="default"></label>
        <button type="submit" id="issue-key-submit">Issue key</button>
        </form>
        {{/tenant}}
        </section>
        <section class="card" id="price-plan">
        <h2>Price plan</h2>
        <table id="plan-history">
        <thead><tr><th scope="col">From</th><th scope="col">Plan</th><th scope="col"></th></tr></thead>
        <tbody>
        {{#planHistory}}
        <tr data-in-force="{{inForce}}"><td>{{#fromISO}}<time datetime="{{fromISO}}">{{from}}</time>{{/fromISO}}{{^fromISO}}{{from}}{{/fromISO}}</td><td>{{plan}}</td><td>{{#inForce}}<span class="badge">in force</span>{{/inForce}}</td></tr>
        {{/planHistory}}
        {{^planHistory}}<tr><td>always</td><td>none (free)</td><td><span class="badge">in force</span></td></tr>{{/planHistory}}
        </tbody>
        </table>
        {{#planError}}<p class="flash-error" id="plan-error" role="alert">{{planError}}</p>{{/planError}}
        {{#tenant}}
        <form method="post" action="/admin/ui/tenants/{{id}}/plan" class="inline-form" id="assign-plan-form">
        {{>csrf}}
        <label>Plan <select name="price_plan_id" id="plan-select">{{#planOptions}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/planOptions}}</select></label>
        <label>From <input name="effective_from" id="plan-from" placeholder="now, or 2027-01-01T00:00:00Z"></label>
        <button type="submit" id="assign-plan-submit">Change plan</button>
        </form>
        {{/tenant}}
        <p class="sub">A change takes effect now or later, never earlier: periods already billed keep their prices.</p>
        </section>
        {{/body}}
        {{/content}}{{/layout}}
        """

    static let plans = """
        {{<layout}}{{$content}}
        {{#body}}
        {{#formError}}<p class="flash-error" id="plan-form-error" role="alert">{{formError}}</p>{{/formError}}
        {{^hasPlans}}<section class="card"><p class="empty" id="no-plans">No price plans yet.</p></section>{{/hasPlans}}
        {{#plans}}
        <section class="card plan" data-plan-name="{{name}}" data-plan-id="{{id}}">
        <h2>{{name}} <span class="sub">{{currency}} per hour</span></h2>
        <table class="versions">
        <thead><tr><th scope="col">From</th><th scope="col">CPU core</th><th scope="col">Memory GB</th><th scope="col">Disk GB</th><th scope="col">Workspace</th><th scope="col"></th></tr></thead>
        <tbody>
        {{#versions}}
        <tr data-in-force="{{inForce}}"><td>{{#fromISO}}<time datetime="{{fromISO}}">{{from}}</time>{{/fromISO}}{{^fromISO}}{{from}}{{/fromISO}}</td><td>{{cpu}}</td><td>{{memory}}</td><td>{{disk}}</td><td>{{workspace}}</td><td>{{#inForce}}<span class="badge">in force</span>{{/inForce}}</td></tr>
        {{/versions}}
        </tbody>
        </table>
        <form method="post" action="/admin/ui/plans/{{id}}/versions" class="inline-form" data-form="add-version">
        {{>csrf}}
        <label>From <input name="effective_from" required placeholder="2027-01-01T00:00:00Z"></label>
        <label>CPU core-hour <input name="cpu_core_hour_micros" inputmode="numeric" placeholder="micros"></label>
        <label>Memory GB-hour <input name="memory_gb_hour_micros" inputmode="numeric" placeholder="micros"></label>
        <label>Disk GB-hour <input name="disk_gb_hour_micros" inputmode="numeric" placeholder="micros"></label>
        <label>Workspace-hour <input name="workspace_hour_micros" inputmode="numeric" placeholder="micros"></label>
        <button type="submit">Add prices</button>
        </form>
        </section>
        {{/plans}}
        <section class="card" id="create-plan">
        <h2>Create a price plan</h2>
        <p class="sub">Prices are in millionths of the currency per hour; a new plan's prices apply since always.</p>
        <form method="post" action="/admin/ui/plans" class="grid-form" id="create-plan-form">
        {{>csrf}}
        <label>Name <input name="name" id="plan-name" required placeholder="standard"></label>
        <label>Currency <input name="currency" id="plan-currency" placeholder="EUR"></label>
        <label>CPU core-hour <input name="cpu_core_hour_micros" inputmode="numeric" placeholder="0"></label>
        <label>Memory GB-hour <input name="memory_gb_hour_micros" inputmode="numeric" placeholder="0"></label>
        <label>Disk GB-hour <input name="disk_gb_hour_micros" inputmode="numeric" placeholder="0"></label>
        <label>Workspace-hour <input name="workspace_hour_micros" inputmode="numeric" placeholder="0"></label>
        <div class="wide"><button type="submit" id="create-plan-submit">Create plan</button></div>
        </form>
        </section>
        {{/body}}
        {{/content}}{{/layout}}
        """

    static let audit = """
        {{<layout}}{{$content}}
        {{#body}}
        <form method="get" action="/admin/ui/audit" class="inline-form" id="audit-filter">
        <label>Actor <select name="actor">{{#actors}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/actors}}</select></label>
        <label>Action <input name="action" value="{{action}}" placeholder="server.cordon"></label>
        <button type="submit">Filter</button>
        </form>
        {{/body}}
        <section id="live" data-refresh="5">
        {{>audit-live}}
        </section>
        <p class="live-status" id="live-status" data-state="idle">Refreshes every 5 seconds.</p>
        {{/content}}{{/layout}}
        """

    static let auditLive = """
        {{#body}}
        <section class="card">
        {{^hasEvents}}<p class="empty" id="no-events">No events match.</p>{{/hasEvents}}
        {{#hasEvents}}
        <table id="audit-table">
        <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Details</th></tr></thead>
        <tbody>
        {{#events}}
        <tr data-action="{{action}}" data-actor="{{actorType}}">
        <td><time datetime="{{createdISO}}">{{created}}</time></td>
        <td>{{actorType}}{{#actorID}} <span class="mono sub">{{actorID}}</span>{{/actorID}}</td>
        <td class="mono">{{action}}</td>
        <td>{{#targetType}}{{targetType}} <span class="mono sub">{{targetID}}</span>{{/targetType}}</td>
        <td>{{#details}}<span class="label">{{key}}={{value}}</span> {{/details}}</td>
        </tr>
        {{/events}}
        </tbody>
        </table>
        {{/hasEvents}}
        {{#older}}<p><a href="{{older}}" id="audit-older">Older events</a></p>{{/older}}
        </section>
        {{/body}}

        """

    static let placement = """
        {{<layout}}{{$content}}
        {{#body}}
        <section class="card">
        <p class="sub">Where would a workspace go? Nothing is reserved: this asks the same placement rules a create uses, and shows why each server was chosen or passed over.</p>
        {{#form}}
        <form method="post" action="/admin/ui/placement" class="grid-form" id="dry-run-form">
        {{>csrf}}
        <label>CPU cores <input name="cpu" id="dry-cpu" required inputmode="decimal" value="{{cpu}}"></label>
        <label>Memory (MB) <input name="memory_mb" id="dry-memory" required inputmode="numeric" value="{{memoryMB}}"></label>
        <label>Disk (GB) <input name="disk_gb" id="dry-disk" inputmode="numeric" value="{{diskGB}}"></label>
        <label>Strategy <select name="strategy" id="dry-strategy">{{#strategies}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/strategies}}</select></label>
        <label>Preferred server (affinity) <input name="preferred_server" id="dry-preferred" value="{{preferredServer}}"></label>
        <label class="check"><input type="checkbox" name="soft" id="dry-soft" value="on"{{#soft}} checked{{/soft}}> Soft preference</label>
        <label class="wide">Constraints (JSON object, as in a create) <input name="constraints" id="dry-constraints" value="{{constraints}}" placeholder="{&quot;region&quot;: &quot;eu&quot;, &quot;tier&quot;: {&quot;in&quot;: [&quot;a&quot;, &quot;b&quot;]}}"></label>
        <div class="wide"><button type="submit" id="dry-run-submit">Dry run</button></div>
        </form>
        {{/form}}
        </section>
        {{#result}}
        <section class="card" id="dry-run-result" data-strategy="{{strategy}}">
        <h2>Result</h2>
        {{#chosen}}<p class="notice" id="dry-run-chosen" data-server-name="{{chosen}}">A create would go to <strong>{{chosen}}</strong>.</p>{{/chosen}}
        {{#wouldFail}}<p class="flash-error" id="dry-run-failure" data-code="{{wouldFail}}">A create would fail: {{wouldFail}}.</p>{{/wouldFail}}
        <table id="dry-run-table">
        <thead><tr><th scope="col">Server</th><th scope="col">Outcome</th><th scope="col">Rank</th><th scope="col">Score</th><th scope="col">Why</th></tr></thead>
        <tbody>
        {{#servers}}
        <tr data-server-name="{{name}}" data-outcome="{{outcome}}">
        <td><a href="/admin/ui/servers/{{id}}">{{name}}</a></td>
        <td><span class="badge outcome-{{outcome}}">{{outcome}}</span></td>
        <td>{{rank}}</td>
        <td>{{score}}</td>
        <td class="reasons">{{#reasons}}<span class="reason">{{.}}</span> {{/reasons}}{{#isCandidate}}fits{{/isCandidate}}</td>
        </tr>
        {{/servers}}
        </tbody>
        </table>
        {{^servers}}<p class="empty">No servers are registered.</p>{{/servers}}
        </section>
        {{/result}}
        {{/body}}
        {{/content}}{{/layout}}
        """
}
