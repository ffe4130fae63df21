/* A stand-in for Magento's mage/apply/main: runs text/x-magento-init components through RequireJS. */
(function () {
    'use strict';
    function apply() {
        var scripts = document.querySelectorAll('script[type="text/x-magento-init"]');
        Array.prototype.forEach.call(scripts, function (script) {
            var spec = JSON.parse(script.textContent);
            Object.keys(spec).forEach(function (selector) {
                var elements = selector === '*' ? [false] : document.querySelectorAll(selector);
                Object.keys(spec[selector]).forEach(function (component) {
                    Array.prototype.forEach.call(elements, function (element) {
                        window.require([component], function (fn) {
                            fn(spec[selector][component], element);
                        });
                    });
                });
            });
        });
    }
    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', apply);
    } else {
        apply();
    }
}());
