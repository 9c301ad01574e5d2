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

  /* Chosen-site markers by zoom: [from zoom, class]; the classes scale the
     markers (CSS) and hide their numbers where they would bury each other. */
  var SITE_ZOOMS = [
    [6, ""], [5, "planner-mid"], [4, "planner-far"], [-Infinity, "planner-farthest"]
  ];

  /* Point radii grow with zoom: a continent of dealers as specks, a region as dots. */
  function pointScale(zoom) {
    return Math.max(0.3, Math.min(1, (zoom - 1.5) / 6.5));
  }

  /* The same text as planner.maps.data.fmt_int / fmt_amount (numbers arrive rounded). */
  function fmtInt(x) {
    return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function fmtAmount(x) {
    if (Math.abs(x) >= 1000) {
      return fmtInt(x);
    }
    return x.toFixed(Math.abs(x) >= 10 ? 1 : 2);
  }
  var FORMATS = {
    text: String,
    int: fmtInt,
    amount: fmtAmount,
    kw: function (x) { return fmtInt(x) + " kW"; },
    yesno: function (x) { return x ? "yes" : "no"; }
  };

  /* A column spec of planner.maps.data.column: {f, c} | {f, v} | {f, d, v}. */
  function column(spec) {
    var raw;
    if ("c" in spec) {
      raw = function () { return spec.c; };
    } else if (spec.d) {
      raw = function (i) { return spec.d[spec.v[i]]; };
    } else {
      raw = function (i) { return spec.v[i]; };
    }
    var format = FORMATS[spec.f] || String;
    return {
      raw: raw,
      text: function (i) {
        var x = raw(i);
        return x === null || x === undefined ? "n/a" : format(x);
      }
    };
  }

  /* Coordinates of planner.maps.data.delta_coords: running sums of integer steps. */
  function coords(data) {
    var out = new Array(data.lat.length), lat = 0, lon = 0;
    for (var i = 0; i < out.length; i++) {
      lat += data.lat[i];
      lon += data.lon[i];
      out[i] = [lat / data.s, lon / data.s];
    }
    return out;
  }

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
        layer.bindTooltip(content(layer), {direction: "top", sticky: false});
        layer.openTooltip();
      }
    });
  }

  /* Circle markers whose radius (options.radius at zoom 8 and closer) scales
     with zoom: set as the renderer projects them, so a zoom costs no extra pass
     over tens of thousands of points. Made on first use, when Leaflet is loaded. */
  var markerClasses = null;
  function markers() {
    if (markerClasses) {
      return markerClasses;
    }
    var Scaled = L.CircleMarker.extend({
      _project: function () {
        this._radius = this.options.radius * pointScale(this._map.getZoom());
        /* An outline around a speck only darkens it: none below 2.5 px. */
        if (this.options.plannerStroke === undefined) {
          this.options.plannerStroke = this.options.stroke !== false;
        }
        this.options.stroke = this.options.plannerStroke && this._radius >= 2.5;
        L.CircleMarker.prototype._project.call(this);
      }
    });
    /* A reach circle smaller than a site marker tells nothing: not drawn. */
    var Reach = L.Circle.extend({
      _updatePath: function () {
        if (this._radius >= 6) {
          L.Circle.prototype._updatePath.call(this);
        }
      }
    });
    /* Drawn as a square of side 2 x radius on a canvas (an SVG renderer draws the circle). */
    var Square = Scaled.extend({
      _updatePath: function () {
        var renderer = this._renderer;
        if (!renderer._ctx || !renderer._drawing || this._empty()) {
          return Scaled.prototype._updatePath.call(this);
        }
        /* As Leaflet 1.9's Canvas._updateCircle, with a square for the arc. */
        var p = this._point, r = Math.max(Math.round(this._radius), 1), ctx = renderer._ctx;
        ctx.beginPath();
        ctx.rect(p.x - r, p.y - r, 2 * r, 2 * r);
        renderer._fillStroke(ctx, this);
      }
    });
    markerClasses = {circle: Scaled, square: Square, reach: Reach};
    return markerClasses;
  }

  /* The basemap, heat and chosen-site zoom classes: set up before any layer. */
  function panes(map) {
    /* The outlines get a pane of their own under every overlay: its canvas is
       separate, so the opaque land fill can never hide a point. */
    var basemap = map.createPane("plannerBasemap");
    basemap.style.zIndex = 250;
    basemap.style.pointerEvents = "none";
    /* The heat layer sits under the points (overlay pane, 400) and markers. */
    var heat = map.createPane("plannerHeat");
    heat.style.zIndex = 350;
    heat.style.pointerEvents = "none";
    var zoomClass = function () {
      var zoom = map.getZoom(), container = map.getContainer();
      var chosen = SITE_ZOOMS.filter(function (level) { return zoom >= level[0]; })[0][1];
      SITE_ZOOMS.forEach(function (level) {
        if (level[1]) {
          L.DomUtil[level[1] === chosen ? "addClass" : "removeClass"](container, level[1]);
        }
      });
    };
    map.on("zoomend", zoomClass);
    map.whenReady(zoomClass);
  }

  /* data: planner.maps.data.points_layer; style: Leaflet path options plus
     shape ("square" draws squares on the canvas). atBack: keep these points
     under the others, also after the layer is switched off and on again (the
     canvas draws in the order layers were added). */
  function points(group, data, style, atBack) {
    var latlngs = coords(data);
    var radius = column(data.r), title = column(data.title);
    var values = data.cols.map(column);
    var Marker = markers()[style.shape === "square" ? "square" : "circle"];
    latlngs.forEach(function (latlng, i) {
      var marker = new Marker(latlng, Object.assign({}, style, {radius: radius.raw(i)}));
      marker.plannerIndex = i;
      group.addLayer(marker);
    });
    group.plannerValues = values;
    if (atBack) {
      group.on("add", function () {
        group.eachLayer(function (layer) { layer.bringToBack(); });
      });
    }
    lazyTooltips(group, function (layer) {
      var i = layer.plannerIndex;
      var pairs = data.labels.map(function (label, k) { return [label, values[k].text(i)]; });
      return card(title.text(i), pairs, "planner-tooltip");
    });
  }

  /* Heat of the points of group (a points layer), weighted by the square root
     of column k (sessions/day) over its largest value: a few big cities do not
     wash out everything else. */
  function heat(heatLayer, group, k) {
    var latlngs = [], weights = [], top = 0;
    group.eachLayer(function (layer) {
      var w = Math.max(+group.plannerValues[k].raw(layer.plannerIndex) || 0, 0);
      var ll = layer.getLatLng();
      latlngs.push([ll.lat, ll.lng]);
      weights.push(w);
      top = Math.max(top, w);
    });
    heatLayer.setLatLngs(latlngs.map(function (ll, i) {
      return [ll[0], ll[1], top > 0 ? Math.sqrt(weights[i] / top) : 0];
    }));
  }

  /* data: {labels, rows: [lat, lon, size, chargers, title, values, kind?]};
     kind (optional) is one of the planner's own words (kept, added, removed),
     never input text. Smaller markers sit on top of bigger ones. */
  function sites(group, data, popupOptions) {
    data.rows.forEach(function (row) {
      var size = row[2], kind = row[6];
      var label = document.createElement("span");
      label.className = "planner-site-dot";
      label.textContent = String(row[3]);
      var icon = L.divIcon({
        className: "planner-site" + (kind ? " planner-site-" + kind : ""),
        html: label,
        iconSize: [size, size],
        popupAnchor: [0, -size / 2]
      });
      var marker = L.marker([row[0], row[1]], {
        icon: icon, riseOnHover: true, zIndexOffset: 1000 * (60 - size)
      });
      marker.plannerTitle = row[4];
      /* The popup says all the tooltip does: do not show both. */
      marker.on("popupopen", function () { marker.closeTooltip(); });
      marker.on("tooltipopen", function () {
        if (marker.isPopupOpen()) {
          marker.closeTooltip();
        }
      });
      /* popupOptions: pan an opened popup clear of the page's panels. */
      marker.bindPopup(function () {
        var pairs = data.labels.map(function (label, k) { return [label, row[5][k]]; });
        return card(row[4], pairs, "planner-popup");
      }, Object.assign({maxWidth: 380}, popupOptions || {}));
      group.addLayer(marker);
    });
    lazyTooltips(group, function (layer) {
      var span = document.createElement("span");
      span.textContent = layer.plannerTitle;
      return span;
    });
  }

  /* centres: delta coordinates; radius in metres (great-circle). */
  function circles(group, centres, radius, style) {
    coords(centres).forEach(function (latlng) {
      group.addLayer(new (markers().reach)(latlng, Object.assign({}, style, {radius: radius})));
    });
  }

  /* polygons: [[ring, hole, ...], ...], each ring delta coordinates; null for
     the shapes of the previous call (a second map of the same page). */
  var lastOutlines = [];
  function outlines(group, polygons, style) {
    var shapes = polygons === null ? lastOutlines
      : polygons.map(function (rings) { return rings.map(coords); });
    lastOutlines = shapes;
    group.addLayer(L.polygon(shapes, Object.assign({}, style, {
      interactive: false, pane: "plannerBasemap"
    })));
  }

  /* Open straight on the plan, without a zoom animation from the default view. */
  function fit(map, bounds, options) {
    map.fitBounds(bounds, Object.assign({animate: false}, options));
  }

  return {
    fit: fit, panes: panes, points: points, sites: sites, circles: circles,
    outlines: outlines, heat: heat
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
/* The KPI panel and the legend share the left edge: the KPI panel scrolls
   when both would not fit, so they never overlap. */
.planner-left { position: absolute; z-index: 1000; top: 80px; bottom: 48px; left: 10px;
  display: flex; flex-direction: column; gap: 10px; align-items: flex-start;
  pointer-events: none; }
.planner-left > .planner-panel { position: static; pointer-events: auto; }
.planner-kpi { max-width: 400px; min-height: 0; flex: 0 1 auto; overflow: auto; }
.planner-kpi-grid { display: grid; grid-template-columns: auto auto; gap: 1px 12px; }
.planner-kpi-value { font-weight: 600; text-align: right; }
.planner-kpi summary { cursor: pointer; margin-top: 6px; font-weight: 600; }
.planner-kpi table, .planner-popup-table { border-collapse: collapse; font-size: 12px; }
.planner-kpi th, .planner-kpi td { padding: 1px 5px; text-align: right; }
.planner-kpi th:first-child, .planner-kpi td:first-child { text-align: left; }
.planner-kpi thead th { border-bottom: 1px solid #bbb; }
.planner-legend { margin-top: auto; flex: 0 0 auto; max-width: 330px; font-size: 12px; }
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
.planner-site-added .planner-site-dot { background: #009e73; }
.planner-site-removed .planner-site-dot { background: #d55e00; }
.planner-diff { font-size: 12px; }
.planner-diff table { border-collapse: collapse; }
.planner-diff th, .planner-diff td { padding: 1px 6px; text-align: right; }
.planner-diff th:first-child, .planner-diff td:first-child { text-align: left; }
.planner-diff thead th { border-bottom: 1px solid #bbb; }
.planner-mid .planner-site-dot { transform: scale(0.8); font-size: 10px; }
.planner-far .planner-site-dot { transform: scale(0.42); font-size: 0; border-width: 1px; }
.planner-farthest .planner-site-dot { transform: scale(0.26); font-size: 0; border-width: 1px;
  box-shadow: none; }
.planner-popup-title { font-weight: 700; margin-bottom: 4px; }
.planner-popup-table th { text-align: left; font-weight: 600; padding: 1px 8px 1px 0;
  vertical-align: top; }
.planner-popup-table td { padding: 1px 0; }
.planner-tooltip .planner-popup-table { font-size: 11px; }
.leaflet-heatmap-layer { pointer-events: none; }
"""
