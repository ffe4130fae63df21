/**
 * Provenant_Disclosure storefront script: "AI-generated" badges for EU AI Act Art. 50 disclosure.
 *
 * One file for both storefront flavours:
 *  - Luma: an AMD module, initialised by x-magento-init ({"<selector>": {"Provenant_Disclosure/js/disclosure": {}}});
 *  - Hyva (no RequireJS): a plain deferred script that initialises every [data-provenant-disclosure] element.
 * Either way it exposes window.ProvenantDisclosure.init(config, rootElement), config being
 * {"apiBase", "store", "products", "blocks", "pages"} plus optional "manifestBase" and "timeout" (ms).
 *
 * One request per page (or the published manifest's pointer and shard). Images are matched by the
 * /a/b/file.jpg tail of their src, so resized cache URLs match. Text is set with textContent only.
 * Any failure (sidecar down, slow, malformed answer) leaves the page exactly as it was.
 */
(function (root, factory) {
    'use strict';
    var api = factory(root);
    root.ProvenantDisclosure = api;
    // An anonymous define() is only right when RequireJS loads this file (it marks its script tags
    // with data-requiremodule; bundles evaluate it without a current script). A plain <script> on
    // a page that happens to have RequireJS too initialises itself instead.
    var script = root.document && root.document.currentScript;
    var viaRequire = !script || script.hasAttribute('data-requiremodule');
    if (typeof root.define === 'function' && root.define.amd && viaRequire) {
        root.define([], function () {
            return function (config, element) {
                api.init(api.readConfig(element, config), root.document);
            };
        });
    } else if (root.document) {
        var start = function () {
            api.autoInit(root.document);
        };
        if (root.document.readyState === 'loading') {
            root.document.addEventListener('DOMContentLoaded', start);
        } else {
            start();
        }
    }
}(typeof window !== 'undefined' ? window : this, function (window) {
    'use strict';

    var document = window.document;
    var DEFAULT_TIMEOUT = 3000;
    var MAX_REFS = 100;
    var SKIP_BODY_CLASSES = ['checkout-index-index', 'checkout-cart-index', 'checkout-onepage-success',
        'multishipping-checkout', 'paypal-express-review', 'vault-cards-listaction'];
    var SKIP_PATHS = /\/(checkout|cart|payment|paypal|multishipping)(\/|$)/;
    var RECOMMENDATION_SELECTORS = {
        related: '.block.related, [data-provenant-recommendation="related"]',
        up_sell: '.block.upsell, [data-provenant-recommendation="up_sell"]',
        cross_sell: '.block.crosssell, [data-provenant-recommendation="cross_sell"]'
    };
    var GALLERY_SELECTOR = '[data-provenant-gallery], [data-gallery-role="gallery"], .gallery-placeholder, ' +
        '.product.media';
    var GALLERY_ITEM_SELECTOR = '[data-provenant-gallery-item], .fotorama__stage__frame, .fotorama__nav__frame, ' +
        'li, figure';
    var PAGE_CONTENT_SELECTORS = ['[data-provenant-page-content]', '#maincontent .column.main', '#maincontent'];
    var INTERACTIVE_SELECTOR = 'a[href], button, [role="button"], [role="link"], [tabindex]';
    var COMPACT_WIDTH = 160;
    var counter = 0;
    var started = [];

    function isSkippedPage()
    {
        var body = document.body;
        for (var i = 0; body && i < SKIP_BODY_CLASSES.length; i++) {
            if (body.classList.contains(SKIP_BODY_CLASSES[i])) {
                return true;
            }
        }
        return SKIP_PATHS.test(window.location.pathname || '');
    }

    function list(value)
    {
        if (!value) {
            return [];
        }
        if (!Array.isArray(value)) {
            value = String(value).split(',');
        }
        var out = [];
        for (var i = 0; i < value.length; i++) {
            var ref = String(value[i]).trim();
            if (ref && out.indexOf(ref) === -1) {
                out.push(ref);
            }
        }
        return out;
    }

    /** The config of a [data-provenant-disclosure] element (JSON in data-provenant-config), merged over defaults. */
    function readConfig(element, defaults)
    {
        var config = {};
        var key;
        for (key in defaults || {}) {
            if (Object.prototype.hasOwnProperty.call(defaults, key)) {
                config[key] = defaults[key];
            }
        }
        if (element && element.getAttribute) {
            var raw = element.getAttribute('data-provenant-config');
            if (raw) {
                try {
                    var parsed = JSON.parse(raw);
                    for (key in parsed) {
                        if (Object.prototype.hasOwnProperty.call(parsed, key)) {
                            config[key] = parsed[key];
                        }
                    }
                } catch (e) {
                    return null;
                }
            }
        }
        return config;
    }

    /** The /a/b/file.jpg tail of an image URL (decoded), or ''. */
    function mediaTail(src)
    {
        if (!src) {
            return '';
        }
        var path;
        try {
            path = new URL(src, document.baseURI).pathname;
        } catch (e) {
            return '';
        }
        var parts = path.split('/');
        if (parts.length < 4) {
            return '';
        }
        try {
            return '/' + parts.slice(-3).map(decodeURIComponent).join('/');
        } catch (e2) {
            return '/' + parts.slice(-3).join('/');
        }
    }

    function fetchJson(url, timeout)
    {
        var controller = typeof window.AbortController === 'function' ? new window.AbortController() : null;
        var timer = window.setTimeout(function () {
            if (controller) {
                controller.abort();
            }
        }, timeout);
        return new Promise(function (resolve, reject) {
            var settled = false;
            var guard = window.setTimeout(function () {
                settled = true;
                reject(new Error('timeout'));
            }, timeout + 50);
            window.fetch(url, {
                method: 'GET',
                mode: 'cors',
                credentials: 'omit',
                signal: controller ? controller.signal : undefined
            }).then(function (response) {
                if (!response.ok) {
                    throw new Error('HTTP ' + response.status);
                }
                return response.json();
            }).then(function (data) {
                window.clearTimeout(timer);
                window.clearTimeout(guard);
                if (!settled) {
                    resolve(data);
                }
            }, function (error) {
                window.clearTimeout(timer);
                window.clearTimeout(guard);
                if (!settled) {
                    reject(error);
                }
            });
        });
    }

    /** 32-bit FNV-1a over UTF-8, as disclosure/manifests.py computes it. */
    function fnv1a(text)
    {
        var bytes = unescape(encodeURIComponent(text));
        var hash = 0x811c9dc5;
        for (var i = 0; i < bytes.length; i++) {
            hash = hash ^ bytes.charCodeAt(i);
            hash = Math.imul(hash, 0x01000193) >>> 0;
        }
        return ('0000000' + hash.toString(16)).slice(-8);
    }

    function fromManifest(config, refs, timeout)
    {
        var base = String(config.manifestBase).replace(/\/+$/, '') + '/' + encodeURIComponent(config.store) + '/';
        return fetchJson(base + 'current.json', timeout).then(function (pointer) {
            var prefix = pointer.prefix;
            var version = String(pointer.version || '');
            if (!/^[0-9a-f]{64}$/.test(version) || typeof prefix !== 'number') {
                throw new Error('bad pointer');
            }
            var shards = {};
            ['products', 'blocks', 'pages'].forEach(function (group) {
                refs[group].forEach(function (ref) {
                    shards[fnv1a(group + ':' + ref).slice(0, prefix)] = true;
                });
            });
            var names = Object.keys(shards);
            return Promise.all(names.map(function (name) {
                return fetchJson(base + version + '/' + name + '.json', timeout);
            })).then(function (parts) {
                var data = {store: config.store, modes: pointer.modes || {}, products: {}, blocks: {}, pages: {}};
                ['products', 'blocks', 'pages'].forEach(function (group) {
                    refs[group].forEach(function (ref) {
                        for (var i = 0; i < parts.length; i++) {
                            var entries = parts[i][group] || {};
                            if (Object.prototype.hasOwnProperty.call(entries, ref)) {
                                data[group][ref] = entries[ref];
                            }
                        }
                    });
                });
                return data;
            });
        });
    }

    function fromApi(config, refs, timeout)
    {
        var query = [];
        ['products', 'blocks', 'pages'].forEach(function (group) {
            if (refs[group].length) {
                query.push(group + '=' + refs[group].map(encodeURIComponent).join(','));
            }
        });
        var url = String(config.apiBase).replace(/\/+$/, '') + '/api/v1/disclosures/' +
            encodeURIComponent(config.store) + '?' + query.join('&');
        return fetchJson(url, timeout);
    }

    function safeUrl(value)
    {
        try {
            var url = new URL(String(value), document.baseURI);
            return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : '';
        } catch (e) {
            return '';
        }
    }

    /**
     * A badge: a button showing the label as visible text (its accessible name), described by the
     * explanation, which opens on hover, keyboard focus and a tap.
     */
    function makeBadge(badge)
    {
        counter += 1;
        var id = 'provenant-tip-' + counter;
        var wrap = document.createElement('span');
        wrap.className = 'provenant-badge provenant-badge--' + String(badge.surface).replace(/[^a-z_]/g, '') +
            ' provenant-badge--' + String(badge.kind || 'generated').replace(/[^a-z]/g, '');
        wrap.setAttribute('data-provenant-badge', String(badge.surface));
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'provenant-badge__button';
        button.setAttribute('aria-describedby', id);
        button.setAttribute('aria-expanded', 'false');
        if (badge.icon !== 'none') {
            var icon = document.createElement('span');
            icon.className = 'provenant-badge__icon provenant-badge__icon--' + (badge.icon === 'info' ? 'info' : 'sparkle');
            icon.setAttribute('aria-hidden', 'true');
            wrap.appendChild(button);
            button.appendChild(icon);
        } else {
            wrap.appendChild(button);
        }
        var label = document.createElement('span');
        label.className = 'provenant-badge__label';
        label.textContent = String(badge.label || '');
        button.appendChild(label);
        var tip = document.createElement('span');
        tip.id = id;
        tip.className = 'provenant-badge__tip';
        tip.setAttribute('role', 'tooltip');
        tip.hidden = true;
        var text = document.createElement('span');
        text.className = 'provenant-badge__text';
        text.textContent = String(badge.explanation || '');
        tip.appendChild(text);
        var href = badge.learn_more_url ? safeUrl(badge.learn_more_url) : '';
        if (href) {
            var link = document.createElement('a');
            link.className = 'provenant-badge__more';
            link.href = href;
            link.rel = 'noopener';
            link.textContent = badge.locale && String(badge.locale).indexOf('de') === 0 ? 'Mehr erfahren' : 'Learn more';
            tip.appendChild(document.createTextNode(' '));
            tip.appendChild(link);
        }
        wrap.appendChild(tip);

        var pinned = false;
        function show()
        {
            tip.hidden = false;
            button.setAttribute('aria-expanded', 'true');
        }
        function hide()
        {
            if (!pinned) {
                tip.hidden = true;
                button.setAttribute('aria-expanded', 'false');
            }
        }
        wrap.addEventListener('mouseenter', show);
        wrap.addEventListener('mouseleave', hide);
        wrap.addEventListener('focusin', show);
        wrap.addEventListener('focusout', function (event) {
            if (!wrap.contains(event.relatedTarget)) {
                pinned = false;
                hide();
            }
        });
        button.addEventListener('click', function (event) {
            // A tap inside a gallery link must not open the image or change the slide.
            event.preventDefault();
            event.stopPropagation();
            pinned = !pinned;
            if (pinned) {
                show();
            } else {
                tip.hidden = true;
                button.setAttribute('aria-expanded', 'false');
            }
        });
        wrap.addEventListener('keydown', function (event) {
            if (event.key === 'Escape' || event.key === 'Esc') {
                pinned = false;
                tip.hidden = true;
                button.setAttribute('aria-expanded', 'false');
            }
        });
        return wrap;
    }

    function hideElement(element)
    {
        element.hidden = true;
        element.setAttribute('data-provenant-suppressed', '');
        element.style.setProperty('display', 'none', 'important');
    }

    function addJsonLd(object, image)
    {
        var data = {};
        for (var key in object) {
            if (Object.prototype.hasOwnProperty.call(object, key)) {
                data[key] = object[key];
            }
        }
        if (!data.contentUrl && image) {
            data.contentUrl = image.currentSrc || image.src;
        }
        var script = document.createElement('script');
        script.type = 'application/ld+json';
        script.setAttribute('data-provenant-jsonld', '');
        script.textContent = JSON.stringify(data);
        document.head.appendChild(script);
    }

    function imageTail(image)
    {
        return mediaTail(image.getAttribute('src')) || mediaTail(image.getAttribute('data-src'));
    }

    function imagesByTail(scope)
    {
        var map = {};
        var images = scope.querySelectorAll('img');
        for (var i = 0; i < images.length; i++) {
            var image = images[i];
            var tail = imageTail(image);
            if (tail) {
                (map[tail] = map[tail] || []).push(image);
            }
        }
        return map;
    }

    /** Suppress mode: hide a synthetic gallery image; if it is the main image, show the first real one. */
    function suppressImage(image, syntheticTails)
    {
        var gallery = image.closest(GALLERY_SELECTOR);
        var item = image.closest(GALLERY_ITEM_SELECTOR);
        var isMain = image.hasAttribute('data-provenant-main') || image.matches('[data-gallery-role="main"] img, img[data-gallery-main]') ||
            (gallery && !item);
        if (isMain && gallery) {
            var candidates = gallery.querySelectorAll('img');
            for (var i = 0; i < candidates.length; i++) {
                var candidate = candidates[i];
                var tail = mediaTail(candidate.getAttribute('data-full') || candidate.getAttribute('src'));
                if (candidate !== image && tail && !syntheticTails[tail]) {
                    image.removeAttribute('srcset');
                    image.src = candidate.getAttribute('data-full') || candidate.src;
                    image.alt = candidate.alt;
                    return;
                }
            }
        }
        hideElement(item && gallery && gallery.contains(item) ? item : image);
    }

    function apply(data, scope, state)
    {
        var modes = data.modes || {};
        var groups = data.products || {};
        var syntheticTails = {};
        var imageBadges = {};
        var skus = Object.keys(groups);
        skus.forEach(function (sku) {
            (groups[sku].badges || []).forEach(function (badge) {
                if (badge.surface === 'product_image' && badge.file) {
                    syntheticTails[badge.file] = true;
                    imageBadges[badge.file] = badge;
                }
            });
        });

        function applyImages()
        {
            // A gallery that swaps an image's src (thumbnail clicked) gets its badge re-decided.
            var done = scope.querySelectorAll('img[data-provenant-done]');
            for (var d = 0; d < done.length; d++) {
                var current = imageTail(done[d]);
                if (current !== done[d].getAttribute('data-provenant-done')) {
                    var previous = state.badges.get(done[d]);
                    if (previous && previous.parentNode) {
                        previous.parentNode.removeChild(previous);
                    }
                    state.badges.delete(done[d]);
                    done[d].removeAttribute('data-provenant-done');
                }
            }
            var images = imagesByTail(scope);
            Object.keys(imageBadges).forEach(function (tail) {
                var badge = imageBadges[tail];
                (images[tail] || []).forEach(function (image) {
                    if (image.hasAttribute('data-provenant-done')) {
                        return;
                    }
                    image.setAttribute('data-provenant-done', tail);
                    if (badge.hidden || modes.product_image === 'suppress') {
                        suppressImage(image, syntheticTails);
                        return;
                    }
                    // A button inside a link or button is not allowed (nested interactive content):
                    // such an image gets its badge next to the interactive element that holds it.
                    var anchor = image.parentNode && image.parentNode.closest ?
                        image.parentNode.closest(INTERACTIVE_SELECTOR) : null;
                    var after = anchor && scope.contains(anchor) ? anchor : image;
                    var parent = after.parentNode;
                    if (!parent) {
                        return;
                    }
                    if (parent.classList) {
                        parent.classList.add('provenant-host');
                    }
                    var node = makeBadge(badge);
                    var width = image.getBoundingClientRect ? image.getBoundingClientRect().width : 0;
                    if (width && width < COMPACT_WIDTH) {
                        // Thumbnails keep the label as visible text (Art. 50(5): clear at first
                        // exposure), smaller and wrapped within the image instead of an icon alone.
                        node.classList.add('provenant-badge--compact');
                        node.style.maxWidth = Math.max(Math.floor(width) - 4, 32) + 'px';
                    }
                    state.badges.set(image, node);
                    parent.insertBefore(node, after.nextSibling);
                    if (!state.jsonld[tail]) {
                        state.jsonld[tail] = true;
                        skus.forEach(function (sku) {
                            (groups[sku].jsonld || []).forEach(function (object) {
                                if (object.identifier === tail) {
                                    addJsonLd(object, image);
                                }
                            });
                        });
                    }
                });
            });
        }

        function applyContainer(container, badge, suppress, atTop)
        {
            if (container.hasAttribute('data-provenant-done')) {
                return;
            }
            container.setAttribute('data-provenant-done', '');
            if (suppress) {
                hideElement(container);
                return;
            }
            container.classList.add('provenant-container');
            var title = atTop ? null : container.querySelector('.block-title, h2, h3');
            var node = makeBadge(badge);
            if (title && title.parentNode) {
                title.parentNode.insertBefore(node, title.nextSibling);
            } else {
                container.insertBefore(node, container.firstChild);
            }
        }

        function applyBlocks()
        {
            skus.forEach(function (sku) {
                (groups[sku].badges || []).forEach(function (badge) {
                    var selector = badge.surface === 'recommendation' && RECOMMENDATION_SELECTORS[badge.link_type];
                    if (!selector) {
                        return;
                    }
                    var blocks = scope.querySelectorAll(selector);
                    for (var i = 0; i < blocks.length; i++) {
                        applyContainer(blocks[i], badge, badge.hidden || modes.recommendation === 'suppress');
                    }
                });
            });
            var cms = data.blocks || {};
            var marked = scope.querySelectorAll('[data-provenant-block]');
            for (var i = 0; i < marked.length; i++) {
                var entry = cms[marked[i].getAttribute('data-provenant-block')];
                if (entry && entry.badges && entry.badges.length) {
                    var badge = entry.badges[0];
                    applyContainer(marked[i], badge, badge.hidden || modes.cms_block === 'suppress');
                }
            }
            var pages = data.pages || {};
            Object.keys(pages).forEach(function (ref) {
                var page = pages[ref];
                if (!page || !page.badges || !page.badges.length) {
                    return;
                }
                var nodes = Array.prototype.filter.call(scope.querySelectorAll('[data-provenant-page]'), function (node) {
                    return node.getAttribute('data-provenant-page') === ref;
                });
                if (!nodes.length && state.pages.indexOf(ref) !== -1) {
                    // The page this config was rendered for: its main content column.
                    // In order of preference (a selector list would return the first in the document).
                    for (var k = 0; k < PAGE_CONTENT_SELECTORS.length && !nodes.length; k++) {
                        var main = scope.querySelector(PAGE_CONTENT_SELECTORS[k]);
                        nodes = main ? [main] : [];
                    }
                }
                // A page cannot be removed without breaking the storefront: it keeps its badge.
                nodes.forEach(function (node) {
                    applyContainer(node, page.badges[0], false, true);
                });
            });
        }

        applyImages();
        applyBlocks();
        if (typeof window.MutationObserver === 'function') {
            // Galleries (Fotorama, Hyva's Alpine gallery) and lazy blocks render after load.
            var pending = false;
            var observer = new window.MutationObserver(function () {
                if (pending) {
                    return;
                }
                pending = true;
                window.setTimeout(function () {
                    pending = false;
                    try {
                        applyImages();
                        applyBlocks();
                    } catch (e) {
                        observer.disconnect();
                    }
                }, 50);
            });
            observer.observe(scope === document ? document.body : scope, {
                childList: true, subtree: true, attributes: true, attributeFilter: ['src']
            });
            state.observer = observer;
        }
    }

    function collectRefs(config, scope)
    {
        var refs = {products: list(config.products), blocks: list(config.blocks), pages: list(config.pages)};
        var marked = scope.querySelectorAll('[data-provenant-block]');
        for (var i = 0; i < marked.length; i++) {
            var ref = marked[i].getAttribute('data-provenant-block');
            if (ref && refs.blocks.indexOf(ref) === -1) {
                refs.blocks.push(ref);
            }
        }
        var total = 0;
        ['products', 'pages', 'blocks'].forEach(function (group) {
            refs[group] = refs[group].slice(0, Math.max(0, MAX_REFS - total));
            total += refs[group].length;
        });
        return refs;
    }

    /**
     * Fetch and show the badges of this page. Returns a promise that resolves to true when badges were
     * applied and false otherwise; it never rejects.
     */
    function init(config, rootElement)
    {
        try {
            var scope = rootElement || document;
            if (!config || !config.store || !(config.apiBase || config.manifestBase) || isSkippedPage() ||
                typeof window.fetch !== 'function') {
                return Promise.resolve(false);
            }
            if (started.indexOf(scope) !== -1) {
                return Promise.resolve(false);
            }
            started.push(scope);
            var refs = collectRefs(config, scope);
            if (!refs.products.length && !refs.blocks.length && !refs.pages.length) {
                return Promise.resolve(false);
            }
            var timeout = Number(config.timeout) > 0 ? Number(config.timeout) : DEFAULT_TIMEOUT;
            var request = config.manifestBase ? fromManifest(config, refs, timeout) : fromApi(config, refs, timeout);
            var state = {jsonld: {}, badges: new window.Map(), pages: refs.pages};
            return request.then(function (data) {
                if (!data || typeof data !== 'object') {
                    return false;
                }
                apply(data, scope, state);
                if (document.documentElement) {
                    document.documentElement.setAttribute('data-provenant-ready', '');
                }
                return true;
            }).catch(function () {
                return false;
            });
        } catch (e) {
            return Promise.resolve(false);
        }
    }

    function autoInit(doc)
    {
        var holders = (doc || document).querySelectorAll('[data-provenant-disclosure]');
        for (var i = 0; i < holders.length; i++) {
            var config = readConfig(holders[i], {});
            if (config) {
                init(config, doc || document);
            }
        }
    }

    return {init: init, autoInit: autoInit, readConfig: readConfig, mediaTail: mediaTail, fnv1a: fnv1a};
}));
