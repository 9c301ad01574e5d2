"""The map's own JavaScript and CSS, inlined into every page.

Large layers (dealers, demand points, chosen sites, reach circles, outlines)
are embedded as compact JSON and drawn by the functions below instead of one
folium object per point: a full-scale network has tens of thousands of
dealers, and one generated statement per marker would make the file tens of
megabytes and slow to parse. Points go on Leaflet's canvas renderer (the map
is created with ``preferCanvas``), so panning stays smooth.

Every label is put into the page with ``textContent``: strings from input
files never reach an HTML parser, whatever they contain. Tooltips are bound
lazily, on first hover, so that tens of thousands of points do not each carry
a tooltip object.

Nothing here touches ``L`` at load time: the functions run only after Leaflet
has been loaded, whatever the order of the page's header.
"""

from __future__ import annotations

#: Defines ``plannerMap``; each function fills one folium feature group.
MAP_JS = r"""
var plannerMap = (function () {
  "use strict";
  var FAR_ZOOM = 7;

  function table(pairs) {
    var t = document.createElement("table");
    t.className = "planner-popup-table";
    pairs.forEach(function (pair) {
      var row = t.insertRow();
      var th = document.createElement("th");
      th.textContent = pair[0];
      row.appendChild(th);
      row.insertCell().textContent = pair[1];
    });
    return t;
  }

  function card(title, pairs, className) {
    var div = document.createElement("div");
    div.className = className;
    var head = document.createElement("div");
    head.className = "planner-popup-title";
    head.textContent = title;
    div.appendChild(head);
    div.appendChild(table(pairs));
    return div;
  }

  function lazyTooltips(group, content) {
    group.on("mouseover", function (e) {
      var layer = e.layer;
      if (layer && !layer.getTooltip()) {
        layer.bindTooltip(content(layer.plannerRow), {direction: "top", sticky: false});
        layer.openTooltip();
      }
    });
  }

  /* The outlines get a pane of their own under every overlay: its canvas is
     separate, so the opaque land fill can never hide a point. */
  function panes(map) {
    var pane = map.createPane("plannerBasemap");
    pane.style.zIndex = 250;
    pane.style.pointerEvents = "none";
    /* Zoomed out to a continent, full-size site markers would bury each other:
       a class on the map shrinks them (CSS) and hides their numbers. */
    var far = function () {
      L.DomUtil[map.getZoom() < FAR_ZOOM ? "addClass" : "removeClass"](
        map.getContainer(), "planner-far");
    };
    map.on("zoomend", far);
    map.whenReady(far);
  }

  /* rows: [lat, lon, radius, title, value, value, ...]; labels name the values
     (sent once per layer: a full-scale map has tens of thousands of points).
     atBack: keep these points under the others, also after the layer is
     switched off and on again (the canvas draws in the order layers were added). */
  function points(group, rows, style, labels, atBack) {
    rows.forEach(function (row) {
      var marker = L.circleMarker([row[0], row[1]], Object.assign({}, style, {radius: row[2]}));
      marker.plannerRow = row;
      group.addLayer(marker);
    });
    if (atBack) {
      var toBack = function () {
        group.eachLayer(function (layer) { layer.bringToBack(); });
      };
      group.on("add", toBack);
      if (group._map) {
        toBack();
      }
    }
    lazyTooltips(group, function (row) {
      var pairs = labels.map(function (label, i) { return [label, row[4 + i]]; });
      return card(row[3], pairs, "planner-tooltip");
    });
  }

  /* rows: {lat, lon, size, chargers, title, pairs, kind}; kind (optional) is one
     of the planner's own words (kept, added, removed), never input text. */
  function sites(group, rows, popupOptions) {
    rows.forEach(function (row) {
      var label = document.createElement("span");
      label.className = "planner-site-dot";
      label.textContent = String(row.chargers);
      var icon = L.divIcon({
        className: "planner-site" + (row.kind ? " planner-site-" + row.kind : ""),
        html: label,
        iconSize: [row.size, row.size],
        popupAnchor: [0, -row.size / 2]
      });
      var marker = L.marker([row.lat, row.lon], {icon: icon, riseOnHover: true});
      marker.plannerRow = row;
      /* The popup says all the tooltip does: do not show both. */
      marker.on("popupopen", function () { marker.closeTooltip(); });
      marker.on("tooltipopen", function () {
        if (marker.isPopupOpen()) {
          marker.closeTooltip();
        }
      });
      /* popupOptions: pan an opened popup clear of the page's panels. */
      marker.bindPopup(function () {
        return card(row.title, row.pairs, "planner-popup");
      }, Object.assign({maxWidth: 360}, popupOptions || {}));
      group.addLayer(marker);
    });
    lazyTooltips(group, function (row) {
      var span = document.createElement("span");
      span.textContent = row.title;
      return span;
    });
  }

  /* rows: [lat, lon]; radius in metres (great-circle). */
  function circles(group, rows, radius, style) {
    rows.forEach(function (row) {
      group.addLayer(L.circle([row[0], row[1]], Object.assign({}, style, {radius: radius})));
    });
  }

  function outlines(group, geojson, style) {
    group.addLayer(L.geoJSON(geojson, {style: style, interactive: false, pane: "plannerBasemap"}));
  }

  /* Open straight on the plan, without a zoom animation from the default view. */
  function fit(map, bounds, options) {
    map.fitBounds(bounds, Object.assign({animate: false}, options));
  }

  return {
    fit: fit, panes: panes, points: points, sites: sites, circles: circles, outlines: outlines
  };
})();
"""

#: Page styles: panels over the map, chosen-site markers, popups.
MAP_CSS = """
.leaflet-container { background: #dce8f0; font: 13px/1.35 system-ui, -apple-system,
  "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.planner-panel { position: absolute; z-index: 1000; background: rgba(255, 255, 255, 0.94);
  border-radius: 6px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35); padding: 8px 10px;
  font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #222; }
.planner-title { top: 10px; left: 50%; transform: translateX(-50%); max-width: 46%;
  text-align: center; }
.planner-title h1 { font-size: 16px; margin: 0 0 2px 0; }
.planner-subtitle { color: #555; font-size: 12px; }
.planner-badge { display: inline-block; background: #b35806; color: #fff; border-radius: 3px;
  padding: 0 5px; font-size: 11px; font-weight: 600; text-transform: uppercase;
  letter-spacing: 0.03em; }
.planner-kpi { top: 80px; left: 10px; max-width: 400px; max-height: 55%; overflow: auto; }
.planner-kpi-grid { display: grid; grid-template-columns: auto auto; gap: 1px 12px; }
.planner-kpi-value { font-weight: 600; text-align: right; }
.planner-kpi summary { cursor: pointer; margin-top: 6px; font-weight: 600; }
.planner-kpi table, .planner-popup-table { border-collapse: collapse; font-size: 12px; }
.planner-kpi th, .planner-kpi td { padding: 1px 5px; text-align: right; }
.planner-kpi th:first-child, .planner-kpi td:first-child { text-align: left; }
.planner-kpi thead th { border-bottom: 1px solid #bbb; }
.planner-legend { bottom: 48px; left: 10px; max-width: 330px; font-size: 12px; }
.planner-frontier { bottom: 48px; right: 10px; max-width: 45%; }
.planner-frontier summary { cursor: pointer; font-weight: 600; }
.planner-frontier img { display: block; max-width: 100%; margin-top: 6px; }
.planner-legend h2, .planner-kpi h2 { font-size: 13px; margin: 0 0 4px 0; }
.planner-legend-row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.planner-swatch { flex: 0 0 auto; width: 12px; height: 12px; border-radius: 50%;
  box-sizing: border-box; }
.planner-note { color: #555; margin-top: 4px; }
.planner-site { background: transparent; border: 0; }
.planner-site-dot { display: flex; align-items: center; justify-content: center;
  width: 100%; height: 100%; background: #0b3d91; color: #fff; border: 2px solid #fff;
  border-radius: 50%; box-shadow: 0 0 3px rgba(0, 0, 0, 0.6); font-weight: 700;
  font-size: 11px; box-sizing: border-box; transition: transform 0.2s; }
.planner-site-added .planner-site-dot { background: #1a9850; }
.planner-site-removed .planner-site-dot { background: #d73027; }
.planner-pane-label { top: 10px; font-weight: 700; }
.planner-diff { font-size: 12px; }
.planner-diff table { border-collapse: collapse; }
.planner-diff th, .planner-diff td { padding: 1px 6px; text-align: right; }
.planner-diff th:first-child, .planner-diff td:first-child { text-align: left; }
.planner-diff thead th { border-bottom: 1px solid #bbb; }
.planner-far .planner-site-dot { transform: scale(0.45); font-size: 0; border-width: 1px; }
.planner-popup-title { font-weight: 700; margin-bottom: 4px; }
.planner-popup-table th { text-align: left; font-weight: 600; padding: 1px 8px 1px 0;
  vertical-align: top; }
.planner-popup-table td { padding: 1px 0; }
.planner-tooltip .planner-popup-table { font-size: 11px; }
.leaflet-heatmap-layer { pointer-events: none; }
"""
