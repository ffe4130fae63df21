/* As Magento's static deploy would merge it: module id -> static URL (see the module's requirejs-config.js). */
window.require.config({
    baseUrl: '/static',
    paths: {'Provenant_Disclosure/js/disclosure': '/static/Provenant_Disclosure/js/disclosure'}
});
