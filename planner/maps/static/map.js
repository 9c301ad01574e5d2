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
    /* Town names above the points (overlay pane, 400), under the site markers
       (600), and never in the way of a click. */
    var towns = map.createPane("plannerTowns");
    towns.style.zIndex = 450;
    towns.style.pointerEvents = "none";
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

  /* The q-quantile of the positive values (0 when there is none). */
  function quantile(values, q) {
    var sorted = values.filter(function (v) { return v > 0; });
    sorted.sort(function (a, b) { return a - b; });
    if (!sorted.length) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, Math.ceil(q * (sorted.length - 1)))];
  }

  /* The heat layer takes full red at this quantile: the few above it saturate,
     the rest keep their differences. */
  var HEAT_QUANTILE = 0.95;

  /* Heat of the points of group (the uncovered demand points: a covered point
     is in another group and adds nothing), weighted by column k (sessions/day)
     over its 95th percentile, capped at 1. The plugin sums the points falling
     into one cell and would scale to the densest cell, where one big city
     leaves everything else pale; here full red is the 95th percentile of the
     cells in view (at least one point at the 95th percentile). */
  function heat(heatLayer, group, k) {
    var latlngs = [], weights = [];
    group.eachLayer(function (layer) {
      var ll = layer.getLatLng();
      latlngs.push([ll.lat, ll.lng]);
      weights.push(Math.max(+group.plannerValues[k].raw(layer.plannerIndex) || 0, 0));
    });
    var scale = quantile(weights, HEAT_QUANTILE);
    heatLayer.plannerScale = scale;
    heatLayer.setLatLngs(latlngs.map(function (ll, i) {
      return [ll[0], ll[1], scale > 0 ? Math.min(1, weights[i] / scale) : 0];
    }));
    var onAdd = heatLayer.onAdd;
    heatLayer.onAdd = function (map) {
      onAdd.call(this, map);
      var simple = this._heat;
      if (simple && !simple.plannerScaled) {
        simple.plannerScaled = true;
        var setData = simple.data;
        simple.data = function (cells) {
          var top = quantile(cells.map(function (c) { return c[2]; }), HEAT_QUANTILE);
          setData.call(simple, cells);
          return simple.max(Math.max(top, 1));
        };
      }
    };
  }

  /* data: {labels, rows: [lat, lon, size, chargers, title, values, kind?],
     overloaded?, years?, yearColours?}; kind (optional) is one of the
     planner's own words (kept, added, removed), never input text.
     overloaded[i]: the site misses the queueing target (a red ring);
     years[i]: its opening year on a phased plan, coloured by yearColours.
     Smaller markers sit on top of bigger ones. */
  function sites(group, data, popupOptions) {
    var overloaded = data.overloaded || [], years = data.years || [];
    var colours = data.yearColours || {};
    data.rows.forEach(function (row, i) {
      var size = row[2], kind = row[6];
      var label = document.createElement("span");
      label.className = "planner-site-dot";
      label.textContent = String(row[3]);
      var colour = years[i] === null || years[i] === undefined ? null : colours[String(years[i])];
      if (colour) {
        label.style.background = colour;
      }
      var className = "planner-site" + (kind ? " planner-site-" + kind : "");
      if (colour) {
        className += " planner-site-y" + years[i];
      }
      var ringed = Boolean(overloaded[i]);
      function icon(diameter) {
        return L.divIcon({
          className: className + (ringed ? " planner-site-overloaded" : ""),
          html: label,
          iconSize: [diameter, diameter],
          popupAnchor: [0, -diameter / 2]
        });
      }
      var marker = L.marker([row[0], row[1]], {
        icon: icon(size), riseOnHover: true, zIndexOffset: 1000 * (60 - size)
      });
      /* The year filter shows the chargers installed by the year chosen, and
         rings the site when they miss the queueing target that year (ring
         undefined: as drawn). */
      marker.plannerShow = function (diameter, chargers, ring) {
        label.textContent = String(chargers);
        var ringNow = ring === undefined ? ringed : Boolean(ring);
        if (diameter !== marker.plannerSize || ringNow !== ringed) {
          ringed = ringNow;
          marker.plannerSize = diameter;
          marker.plannerCrowded = undefined;
          marker.setIcon(icon(diameter));
          marker.setZIndexOffset(1000 * (60 - diameter));
        }
      };
      marker.plannerTitle = row[4];
      marker.plannerIndex = i;
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
      marker.plannerSize = size;
      group.addLayer(marker);
    });
    lazyTooltips(group, function (layer) {
      var span = document.createElement("span");
      span.textContent = layer.plannerTitle;
      return span;
    });
    declutter(group);
  }

  /* Where numbered site markers pile up (Brussels, the Randstad), a marker
     overlapping a bigger (or, at equal size, earlier) neighbour that keeps its
     number loses its own, shrinks (class planner-site-crowded) and goes under
     it; its popup still tells. Recomputed after every zoom; below zoom 5 no marker has a
     number anyway. */
  var CROWDED_FROM_ZOOM = 5;
  function declutter(group) {
    var map = null;
    function update() {
      if (!map || !map._loaded) {
        return;
      }
      var zoom = map.getZoom(), scale = zoom >= 6 ? 1 : 0.8, list = [];
      group.eachLayer(function (marker) {
        if (marker.plannerSize) {
          list.push(marker);
        }
      });
      list.sort(function (a, b) {
        return b.plannerSize - a.plannerSize || a.plannerIndex - b.plannerIndex;
      });
      var kept = [];
      list.forEach(function (marker) {
        var crowded = false;
        if (zoom >= CROWDED_FROM_ZOOM) {
          var p = map.latLngToLayerPoint(marker.getLatLng());
          crowded = kept.some(function (other) {
            var reach = scale * (marker.plannerSize + other.marker.plannerSize) / 2;
            return p.distanceTo(other.point) < 0.9 * reach;
          });
          if (!crowded) {
            kept.push({marker: marker, point: p});
          }
        }
        /* Under the neighbour whose number it would cover. */
        if (crowded !== marker.plannerCrowded) {
          marker.setZIndexOffset(crowded ? 0 : 1000 * (60 - marker.plannerSize));
        }
        marker.plannerCrowded = crowded;
        var element = marker.getElement();
        if (element) {
          L.DomUtil[crowded ? "addClass" : "removeClass"](element, "planner-site-crowded");
        }
      });
    }
    group.on("add", function () {
      map = group._map;
      map.on("zoomend viewreset", update);
      update();
    });
    group.plannerDeclutter = update;
    group.on("remove", function () {
      if (map) {
        map.off("zoomend viewreset", update);
      }
      map = null;
    });
    /* A marker put back (the year filter) gets its class again. */
    group.on("layeradd", function (e) {
      var element = e.layer.getElement && e.layer.getElement();
      if (element && e.layer.plannerCrowded) {
        L.DomUtil.addClass(element, "planner-site-crowded");
      }
    });
  }

  /* Zoom from which a town label gets each size class (major, town, small). */
  function townClass(minZoom) {
    return minZoom <= 6 ? "planner-town-1" : minZoom <= 8 ? "planner-town-2" : "planner-town-3";
  }
  /* Approximate label width per character and height, in pixels, by class. */
  var TOWN_TEXT = {
    "planner-town-1": [7.6, 16], "planner-town-2": [6.6, 14], "planner-town-3": [6, 13]
  };

  /* The boxes of the chosen-site markers shown, in layer points (as drawn:
     the zoom classes scale them). */
  function siteBoxes(map) {
    var container = map.getContainer(), origin = container.getBoundingClientRect();
    var boxes = [];
    container.querySelectorAll(".planner-site .planner-site-dot").forEach(function (dot) {
      var r = dot.getBoundingClientRect();
      if (!r.width) {
        return;
      }
      var a = map.containerPointToLayerPoint([r.left - origin.left, r.top - origin.top]);
      var b = map.containerPointToLayerPoint([r.right - origin.left, r.bottom - origin.top]);
      boxes.push([a.x, a.y, b.x, b.y]);
    });
    return boxes;
  }

  /* Town names over the offline basemap (data of
     planner.maps.data.town_label_layer, largest place first): after every
     zoom and pan, the names in view whose zoom (data.z) has come are placed,
     largest first, leaving out any that would overlap one already placed.
     A name that a chosen site's marker would cover moves just below the
     marker ("Berlin" read "B[12]n"). Labels sit in their own pane above the
     points and under the site markers, and take no pointer events: a click
     goes to what is below. */
  function towns(group, data) {
    var latlngs = coords(data), shown = {}, map = null;
    function label(i) {
      var span = document.createElement("span");
      span.textContent = data.names[i];
      span.setAttribute("data-min-zoom", String(data.z[i]));
      return L.marker(latlngs[i], {
        icon: L.divIcon({className: "planner-town " + townClass(data.z[i]), html: span,
                         iconSize: null}),
        interactive: false, keyboard: false, pane: "plannerTowns"
      });
    }
    function update() {
      if (!map || !map._loaded) {
        return;
      }
      var zoom = map.getZoom(), view = map.getBounds().pad(0.2), boxes = [], keep = {};
      var sites = siteBoxes(map);
      function overlaps(box, list) {
        return list.some(function (b) {
          return box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3];
        });
      }
      for (var i = 0; i < latlngs.length; i++) {
        if (data.z[i] > zoom || !view.contains(latlngs[i])) {
          continue;
        }
        var size = TOWN_TEXT[townClass(data.z[i])];
        var p = map.latLngToLayerPoint(latlngs[i]);
        var w = size[0] * data.names[i].length / 2 + 4, h = size[1] / 2 + 1;
        var box = [p.x - w, p.y - h, p.x + w, p.y + h];
        var under = sites.filter(function (b) { return overlaps(box, [b]); });
        if (under.length) {
          /* Below the lowest marker it touches, if that spot is free; else in
             place, partly under the marker, as before. */
          var shift = Math.max.apply(null, under.map(function (b) { return b[3]; })) - box[1] + 1;
          var below = [box[0], box[1] + shift, box[2], box[3] + shift];
          if (!overlaps(below, boxes) && !overlaps(below, sites)) {
            boxes.push(below);
            keep[i] = shift;
            continue;
          }
        }
        if (!overlaps(box, boxes)) {
          boxes.push(box);
          keep[i] = 0;
        }
      }
      Object.keys(shown).forEach(function (i) {
        if (!(i in keep)) {
          group.removeLayer(shown[i]);
          delete shown[i];
        }
      });
      Object.keys(keep).forEach(function (i) {
        if (!shown[i]) {
          shown[i] = label(+i);
          group.addLayer(shown[i]);
        }
        var span = shown[i].getElement() && shown[i].getElement().firstChild;
        if (span) {
          span.style.top = keep[i] ? keep[i] + "px" : "";
        }
      });
    }
    group.on("add", function () {
      map = group._map;
      map.on("zoomend moveend viewreset", update);
      update();
    });
    group.on("remove", function () {
      if (map) {
        map.off("zoomend moveend viewreset", update);
      }
      map = null;
    });
    group.plannerTowns = {update: update, names: data.names, z: data.z};
  }

  /* centres: delta coordinates; radius in metres (great-circle). */
  function circles(group, centres, radius, style) {
    coords(centres).forEach(function (latlng, i) {
      var circle = new (markers().reach)(latlng, Object.assign({}, style, {radius: radius}));
      circle.plannerIndex = i;
      group.addLayer(circle);
    });
  }

  /* shapes[i]: the reach of chosen site i as polygons, each a list of rings
     (outer, then holes) in delta coordinates; [] when none was drawn. Not
     interactive, like the circles, so the points under them stay clickable. */
  function isochrones(group, shapes, style) {
    shapes.forEach(function (polygons, i) {
      if (!polygons.length) {
        return;
      }
      var latlngs = polygons.map(function (rings) { return rings.map(coords); });
      var area = L.polygon(latlngs, Object.assign({}, style, {interactive: false}));
      area.plannerIndex = i;
      group.addLayer(area);
    });
  }

  /* A phased plan's year filter: "Show sites open by" one of years, the last
     (every site) at first. rowYears[i] is the opening year of chosen site i;
     siteGroup holds the site markers, reachGroup (or null) their reach
     circles, both indexed by plannerIndex. Sites of later years leave their
     groups, so the layer control still switches what is shown. counts (or
     null): {chargers, sizes, overloaded?}, per site the chargers installed
     by each of years, the marker diameter for them and whether they miss the
     queueing target that year, shown for the year chosen. */
  function yearFilter(map, rowYears, years, siteGroup, reachGroup, counts) {
    var groups = [siteGroup].concat(reachGroup ? [reachGroup] : []);
    var members = groups.map(function (group) {
      var list = [];
      group.eachLayer(function (layer) { list.push(layer); });
      return list;
    });
    function showOpenBy(last) {
      var t = years.indexOf(last);
      if (counts) {
        members[0].forEach(function (marker) {
          var i = marker.plannerIndex;
          if (marker.plannerShow) {
            marker.plannerShow(
              counts.sizes[i][t],
              counts.chargers[i][t],
              counts.overloaded ? counts.overloaded[i][t] : undefined
            );
          }
        });
      }
      groups.forEach(function (group, k) {
        members[k].forEach(function (layer) {
          var year = rowYears[layer.plannerIndex];
          var open = year === null || year === undefined || year <= last;
          if (open && !group.hasLayer(layer)) {
            group.addLayer(layer);
          } else if (!open && group.hasLayer(layer)) {
            group.removeLayer(layer);
          }
        });
      });
      if (counts && siteGroup.plannerDeclutter) {
        siteGroup.plannerDeclutter();
      }
    }
    var name = "planner-year-" + L.Util.stamp(siteGroup);
    var Control = L.Control.extend({
      options: {position: "topright"},
      onAdd: function () {
        var div = L.DomUtil.create("div", "planner-years leaflet-control-layers");
        div.id = "planner-years";
        var head = document.createElement("div");
        head.className = "planner-years-head";
        head.textContent = "Show sites open by:";
        div.appendChild(head);
        years.forEach(function (year, k) {
          var label = document.createElement("label");
          var input = document.createElement("input");
          input.type = "radio";
          input.name = name;
          input.value = String(year);
          input.checked = k === years.length - 1;
          input.addEventListener("change", function () {
            if (input.checked) {
              showOpenBy(year);
            }
          });
          label.appendChild(input);
          label.appendChild(document.createTextNode(" " + year));
          div.appendChild(label);
        });
        /* The demand layers are the last year's: a point "covered" there may
           not be yet in an earlier year, and the filter does not redraw them. */
        var note = document.createElement("div");
        note.className = "planner-note";
        note.id = "planner-years-note";
        note.textContent = "Demand layers: as covered by " + years[years.length - 1];
        div.appendChild(note);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    new Control().addTo(map);
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

  /* data: planner.maps.line_layers (trips, corridors); one canvas line each,
     with its own colour, width and opacity, and a tooltip of title and text. */
  function lines(group, data) {
    var renderer = L.canvas({padding: 0.2});
    data.lines.forEach(function (line, i) {
      var path = L.polyline(coords(line), {
        renderer: renderer,
        color: data.colour[i],
        weight: data.width[i],
        opacity: data.opacity
      });
      path.plannerIndex = i;
      group.addLayer(path);
    });
    lazyTooltips(group, function (layer) {
      var i = layer.plannerIndex;
      return card(data.title[i], [[data.label, data.text[i]]], "planner-tooltip");
    });
  }

  /* Below this width (CSS pixels) the panels would cover most of the map. */
  var NARROW = 640;

  /* Open straight on the plan, without a zoom animation from the default view.
     The padding keeps the plan clear of the panels on a wide screen; where it
     would take more than half the map it shrinks (580 px of padding on a
     390 px phone made the zoom infinite and Leaflet throw). */
  function fit(map, bounds, options) {
    var size = map.getSize();
    var opts = Object.assign({animate: false}, options);
    var topLeft = opts.paddingTopLeft || [0, 0];
    var bottomRight = opts.paddingBottomRight || [0, 0];
    var sx = Math.min(1, 0.5 * size.x / Math.max(1, topLeft[0] + bottomRight[0]));
    var sy = Math.min(1, 0.5 * size.y / Math.max(1, topLeft[1] + bottomRight[1]));
    opts.paddingTopLeft = [topLeft[0] * sx, topLeft[1] * sy];
    opts.paddingBottomRight = [bottomRight[0] * sx, bottomRight[1] * sy];
    map.fitBounds(bounds, opts);
    if (size.x < NARROW) {
      /* After the page's other scripts: the layer control is added last. */
      setTimeout(foldPanels, 0);
      /* The control was made open (collapsed: false): a tap on the map closes it again. */
      map.on("click", foldLayers);
    }
  }

  function foldLayers() {
    document.querySelectorAll(".leaflet-control-layers-expanded").forEach(function (el) {
      el.classList.remove("leaflet-control-layers-expanded");
    });
  }

  /* On a phone: the layer list and every open block of the panels start folded
     (a tap on the layers button or a block's heading opens it again). */
  function foldPanels() {
    foldLayers();
    document.querySelectorAll(".planner-panel details[open]").forEach(function (el) {
      el.open = false;
    });
  }

  /* A data credit in the map's corner (constant text of planner's, never user input). */
  function credit(map, html) {
    map.attributionControl.addAttribution(html);
  }

  return {
    credit: credit,
    fit: fit, panes: panes, points: points, sites: sites, circles: circles,
    isochrones: isochrones,
    outlines: outlines, heat: heat, years: yearFilter, towns: towns, lines: lines
  };
})();
