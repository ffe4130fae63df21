/* A minimal product gallery: a thumbnail click shows its image in the main slot. */
document.addEventListener('click', function (event) {
    'use strict';
    var thumb = event.target.closest('.thumb');
    if (!thumb) {
        return;
    }
    var image = thumb.querySelector('img');
    var main = document.getElementById('main-image');
    main.src = image.getAttribute('data-full');
});
