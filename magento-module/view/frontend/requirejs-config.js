/* Luma: the module is loaded by its full id from text/x-magento-init; the alias is for themes. */
var config = {
    map: {
        '*': {
            provenantDisclosure: 'Provenant_Disclosure/js/disclosure'
        }
    }
};
