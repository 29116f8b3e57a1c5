/* The field forms (贷后检查, 走访签到) on the phone: photos from the camera compressed in the
 * browser (canvas → JPEG, longest side 1600 px), the browser's location with its time and the
 * distance to the customer's registered address, a draft kept in localStorage (restored when
 * the form is opened again; queued when the network is down and synced by pwa.js when back).
 * Every draft carries a UUID made here: the server records a draft once however often it is sent.
 */
(function () {
  "use strict";

  var D = window.credoFieldDrafts;
  var form = document.querySelector("form[data-fieldwork-form]");
  if (!D || !form) return;

  var MAX_SIDE = 1600;
  var QUALITY = 0.82;
  var key = form.getAttribute("data-draft-key");
  var status = document.getElementById("draft-status");
  var photoInput = document.getElementById("photo-input");
  var previews = document.getElementById("photo-previews");
  var maxPhotos = photoInput ? parseInt(photoInput.getAttribute("data-max") || "9", 10) : 0;
  var minPhotos = photoInput ? parseInt(photoInput.getAttribute("data-min") || "0", 10) : 0;
  var photos = [];

  function say(text, kind) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("d-none", !text);
    status.classList.remove("alert-info", "alert-warning", "alert-success", "alert-danger");
    status.classList.add("alert-" + (kind || "info"));
  }

  function uuid4() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function field(name) { return form.elements.namedItem(name); }

  function fields() {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "photos" || el.type === "file" || el.disabled) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      out.push([el.name, el.value]);
    });
    return out;
  }

  function snapshot(queued) {
    return {
      key: key,
      action: form.action || window.location.href,
      title: form.getAttribute("data-draft-title") || key,
      fields: fields(),
      photos: photos.slice(),
      saved_at: new Date().toISOString(),
      queued: !!queued
    };
  }

  function restore(d) {
    (d.fields || []).forEach(function (f) {
      if (f[0] === "csrfmiddlewaretoken") return;
      var el = field(f[0]);
      if (!el) return;
      if (el instanceof RadioNodeList || (el.length && !el.tagName)) {
        Array.prototype.forEach.call(el, function (r) { if (r.value === f[1]) r.checked = true; });
      } else if (el.type === "radio" || el.type === "checkbox") {
        el.checked = el.value === f[1];
      } else {
        el.value = f[1];
      }
    });
    photos = (d.photos || []).slice();
  }

  var saveTimer = null;
  var finished = false;  // submitted or synced: nothing more is saved on the phone
  function finish() {
    finished = true;
    window.clearTimeout(saveTimer);
    D.remove(key);
  }
  function autosave() {
    window.clearTimeout(saveTimer);
    if (finished) return;
    saveTimer = window.setTimeout(function () {
      if (finished) return;
      var prev = D.get(key);
      var d = snapshot(prev ? prev.queued : false);
      if (!D.save(d)) say("手机存储空间不足，草稿未能完整保存（可减少照片）。", "warning");
    }, 300);
  }

  // --- location ---------------------------------------------------------------------------------
  var locText = document.getElementById("location-text");
  var distText = document.getElementById("distance-text");

  function distanceM(lat1, lon1, lat2, lon2) {
    var R = 6371008.8, rad = Math.PI / 180;
    var dp = (lat2 - lat1) * rad, dl = (lon2 - lon1) * rad;
    var h = Math.sin(dp / 2) * Math.sin(dp / 2) + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dl / 2) * Math.sin(dl / 2);
    return Math.round(2 * R * Math.asin(Math.min(1, Math.sqrt(h))));
  }

  function showLocation() {
    var lat = parseFloat((field("latitude") || {}).value);
    var lng = parseFloat((field("longitude") || {}).value);
    if (!locText || isNaN(lat) || isNaN(lng)) return;
    var acc = (field("accuracy") || {}).value;
    var at = new Date((field("located_at") || {}).value);
    var time = isNaN(at.getTime()) ? "" : " · " + ("0" + at.getHours()).slice(-2) + ":" + ("0" + at.getMinutes()).slice(-2);
    locText.textContent = lat.toFixed(6) + ", " + lng.toFixed(6) + (acc ? " ±" + acc + " 米" : "") + time;
    locText.classList.remove("text-secondary");
    if (distText && distText.hasAttribute("data-site-lat")) {
      var m = distanceM(lat, lng, parseFloat(distText.getAttribute("data-site-lat")), parseFloat(distText.getAttribute("data-site-lng")));
      distText.textContent = "距客户登记地址约 " + (m >= 1000 ? (m / 1000).toFixed(1) + " 公里" : m + " 米");
      distText.classList.toggle("text-danger", m > 1000);
    }
  }

  function locate() {
    if (!navigator.geolocation) { if (locText) locText.textContent = "此设备不支持定位"; return; }
    if (locText) locText.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      field("latitude").value = pos.coords.latitude.toFixed(6);
      field("longitude").value = pos.coords.longitude.toFixed(6);
      field("accuracy").value = Math.round(pos.coords.accuracy || 0);
      field("located_at").value = new Date(pos.timestamp || Date.now()).toISOString();
      showLocation();
      autosave();
    }, function (err) {
      if (locText) locText.textContent = "无法获取定位（" + (err.code === 1 ? "未授权定位" : "定位失败") + "），可稍后重试；不定位也可以提交。";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  Array.prototype.forEach.call(form.querySelectorAll("[data-locate]"), function (b) { b.addEventListener("click", locate); });

  // --- photos -----------------------------------------------------------------------------------
  function compress(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onerror = function () { reject(new Error("read")); };
      reader.onload = function () {
        var img = new Image();
        img.onerror = function () { reject(new Error("decode")); };
        img.onload = function () {
          var scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
          var canvas = document.createElement("canvas");
          canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
          canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
          var ctx = canvas.getContext("2d");
          ctx.fillStyle = "#fff";  // a transparent PNG becomes white, not black, as JPEG
          ctx.fillRect(0, 0, canvas.width, canvas.height);
          ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
          resolve(canvas.toDataURL("image/jpeg", QUALITY));
        };
        img.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }

  function renderPhotos() {
    if (!previews) return;
    previews.textContent = "";
    photos.forEach(function (src, i) {
      var box = document.createElement("div");
      box.className = "credo-photo";
      var img = document.createElement("img");
      img.src = src;
      img.alt = "照片 " + (i + 1);
      var del = document.createElement("button");
      del.type = "button";
      del.className = "btn btn-icon btn-danger";
      del.setAttribute("aria-label", "删除照片 " + (i + 1));
      del.textContent = "×";
      del.addEventListener("click", function () { photos.splice(i, 1); renderPhotos(); autosave(); });
      box.appendChild(img);
      box.appendChild(del);
      previews.appendChild(box);
    });
    previews.setAttribute("data-count", String(photos.length));
  }

  if (photoInput) {
    photoInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(photoInput.files || []);
      photoInput.value = "";
      var room = maxPhotos - photos.length;
      if (files.length > room) say("最多 " + maxPhotos + " 张照片，多出的未添加。", "warning");
      var chain = Promise.resolve();
      files.slice(0, Math.max(0, room)).forEach(function (f) {
        chain = chain.then(function () {
          return compress(f).then(function (url) { photos.push(url); renderPhotos(); })
            .catch(function () { say("有一张照片无法读取，请重新拍摄。", "warning"); });
        });
      });
      chain.then(autosave);
    });
  }

  // --- validation and submit --------------------------------------------------------------------
  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll("[data-error]"), function (el) { el.textContent = ""; });
  }
  function showErrors(errors) {
    var first = null;
    Object.keys(errors || {}).forEach(function (k) {
      var el = form.querySelector('[data-error="' + k + '"]');
      if (el) { el.textContent = errors[k]; first = first || el; }
    });
    if (first && first.scrollIntoView) first.scrollIntoView({ block: "center" });
  }
  function validate() {
    var errors = {};
    Array.prototype.forEach.call(form.querySelectorAll('[role="radiogroup"][aria-required="true"]'), function (g) {
      var radios = g.querySelectorAll("input[type=radio]");
      var checked = Array.prototype.some.call(radios, function (r) { return r.checked; });
      if (!checked && radios.length) errors[radios[0].name.replace(/^item_/, "")] = "必填检查项，请选择“正常”或“异常”。";
    });
    var result = form.querySelectorAll("input[name=result]");
    if (result.length && !Array.prototype.some.call(result, function (r) { return r.checked; })) errors.result = "请选择检查结论。";
    var purpose = field("purpose");
    if (purpose && purpose.required && !purpose.value) errors.purpose = "请选择走访目的。";
    if (photos.length < minPhotos) errors.photos = "请至少拍摄 " + minPhotos + " 张现场照片。";
    var needNotes = form.querySelector("input[value=issue]:checked, input[name=result][value=fail]:checked");
    var notes = field("notes");
    if (needNotes && notes && !notes.value.trim()) errors.notes = "有异常时必须填写检查情况说明。";
    return errors;
  }

  function queue(d, message) {
    if (D.save(d)) say(message || "网络不可用，已保存在本机，联网后自动同步。", "warning");
    else say("手机存储空间不足，无法保存草稿，请减少照片后重试。", "danger");
    D.showPending();
  }

  var submitting = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (submitting) return;
    clearErrors();
    var errors = validate();
    if (Object.keys(errors).length) { showErrors(errors); say("请按提示补充后再提交。", "danger"); return; }
    var d = snapshot(true);
    if (!navigator.onLine) { queue(d); return; }
    submitting = true;
    var btn = form.querySelector("button[type=submit]");
    if (btn) btn.disabled = true;
    say("正在提交…", "info");
    D.send(d).then(function (r) {
      if (r.ok) {
        finish();
        say("已提交。", "success");
        window.location.href = r.url;
      } else if (r.retry) {
        queue(d, r.message);
      } else {
        D.save(snapshot(false));
        showErrors(r.errors);
        say(r.message || "提交失败。", "danger");
      }
    }).catch(function () {
      queue(d);
    }).then(function () {
      submitting = false;
      if (btn) btn.disabled = false;
    });
  });

  document.addEventListener("credo:draft-synced", function (e) {
    if (e.detail && e.detail.key === key) {
      finish();
      say("草稿已同步到服务器。", "success");
      if (e.detail.url) window.location.href = e.detail.url;
    }
  });
  document.addEventListener("credo:draft-refused", function (e) {
    if (e.detail && e.detail.key === key) { showErrors(e.detail.errors); say(e.detail.message || "草稿未通过校验。", "danger"); }
  });

  // --- start ------------------------------------------------------------------------------------
  var saved = D.get(key);
  if (saved) {
    restore(saved);
    say(saved.queued ? "草稿已保存在本机，等待联网同步。" : "已恢复本机保存的草稿（" + new Date(saved.saved_at).toLocaleString() + "）。", saved.queued ? "warning" : "info");
    if (saved.errors) showErrors(saved.errors);
  }
  var uuidField = field("client_uuid");
  if (uuidField && !uuidField.value) uuidField.value = uuid4();
  renderPhotos();
  showLocation();
  if (!(field("latitude") || {}).value) locate();
  form.addEventListener("input", autosave);
  form.addEventListener("change", function (e) { if (e.target !== photoInput) autosave(); });
})();
