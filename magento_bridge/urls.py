from django.urls import path

from magento_bridge import views

app_name = "magento_bridge"
urlpatterns = [
    path("thumbnails/<int:item_id>.png", views.thumbnail, name="thumbnail"),
]
