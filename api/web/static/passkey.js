/* Passkeys for govledger's pages: create one (Passkeys page) and sign with one (a
   registration's proof of possession, an approval or rejection). The pages pass their data
   in data-* attributes and this file fills the form's hidden fields, then submits it: the
   server checks the CSRF token, the challenge, the origin and the signature. No inline
   script (the Content-Security-Policy allows this file only). W3C Web Authentication Level 3. */
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function showError(text) {
    var box = document.getElementById("passkey-error");
    if (box) { box.textContent = text; box.hidden = false; box.focus(); }
  }

  function explain(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey was not used (cancelled, timed out, or not available on this " +
        "device). Try again, or use the device where you registered it.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This device already holds one of your passkeys for this site.";
    }
    return "The passkey could not be used: " + (error && error.message ? error.message : error);
  }

  function field(form, name, value) { form.elements.namedItem(name).value = value; }

  function create(form) {
    var data = JSON.parse(form.dataset.options);
    var options = data.options;
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return navigator.credentials.create({ publicKey: options }).then(function (credential) {
      var response = credential.response;
      field(form, "token", data.token);
      field(form, "credential", JSON.stringify({
        id: credential.id,
        rawId: toB64url(credential.rawId),
        type: credential.type,
        response: {
          clientDataJSON: toB64url(response.clientDataJSON),
          attestationObject: toB64url(response.attestationObject),
          transports: response.getTransports ? response.getTransports() : []
        },
        clientExtensionResults: {},
        authenticatorAttachment: credential.authenticatorAttachment || undefined
      }));
    });
  }

  function sign(form) {
    var ids = (form.dataset.credentials || "").split(" ").filter(Boolean);
    return navigator.credentials.get({
      publicKey: {
        challenge: toBytes(form.dataset.challenge),
        rpId: window.location.hostname,
        allowCredentials: ids.map(function (id) { return { type: "public-key", id: toBytes(id) }; }),
        userVerification: "required",
        timeout: 120000
      }
    }).then(function (assertion) {
      var response = assertion.response;
      field(form, "credential_id", toB64url(assertion.rawId));
      field(form, "authenticator_data", toB64url(response.authenticatorData));
      field(form, "client_data_json", toB64url(response.clientDataJSON));
      field(form, "signature", toB64url(response.signature));
    });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.PublicKeyCredential) {
        showError("This browser cannot use passkeys. Use a current Chrome, Edge, Firefox or Safari.");
        return;
      }
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      var step = form.dataset.passkey === "create" ? create(form) : sign(form);
      step.then(function () { form.submit(); }, function (error) {
        if (button) { button.disabled = false; }
        showError(explain(error));
      });
    });
  });
}());
