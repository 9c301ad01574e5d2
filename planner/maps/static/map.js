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
