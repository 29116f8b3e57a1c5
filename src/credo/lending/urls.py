from django.urls import include, path

from credo.lending import views
from credo.lending.bookimport import urls as bookimport_urls
from credo.lending.charges import urls as charge_urls
from credo.lending.limits import views as limit_views
from credo.lending.prepay import views as prepay_views
from credo.lending.products import views as product_views
from credo.lending.rates import views as rate_views
from credo.lending.restructure import urls as restructure_urls

app_name = "lending"
urlpatterns = [
    path("limits/<int:customer_pk>/", limit_views.credit_limit, name="credit_limit"),
    path(
        "limits/<int:customer_pk>/freeze/",
        limit_views.credit_limit_freeze,
        name="credit_limit_freeze",
    ),
    path("servicing/", include("credo.lending.servicing.urls")),
    path("exposure/", include("credo.lending.exposure.urls")),
    path("books/", include("credo.lending.books.urls")),
    path("provisions/", include("credo.lending.provisions.urls")),
    path("calculator/", views.calculator, name="calculator"),
    path("loans/", views.loan_list, name="loan_list"),
    path("loans/new/", views.loan_create, name="loan_create"),
    path("loans/<int:pk>/", views.loan_detail, name="loan_detail"),
    path("loans/<int:pk>/disburse/", views.loan_disburse, name="loan_disburse"),
    path("loans/<int:pk>/repay/", views.post_repayment, name="post_repayment"),
    path("loans/<int:pk>/write-off/", views.loan_write_off, name="loan_write_off"),
    path("loans/<int:pk>/prepay/", prepay_views.prepay_page, name="prepay"),
    path("loans/<int:pk>/repay/preview/", views.repayment_preview, name="repayment_preview"),
    path(
        "loans/<int:pk>/postings/<int:posting_pk>/reverse/",
        views.posting_reverse,
        name="posting_reverse",
    ),
    path("rates/lpr/", rate_views.lpr_list, name="lpr_list"),
    path("rates/lpr/new/", rate_views.lpr_edit, name="lpr_create"),
    path("rates/lpr/<int:pk>/", rate_views.lpr_edit, name="lpr_edit"),
    path("products/", product_views.product_list, name="product_list"),
    path("products/new/", product_views.product_create, name="product_create"),
    path(
        "products/<int:pk>/versions/new/",
        product_views.product_version_new,
        name="product_version_new",
    ),
    path("versions/<int:pk>/", product_views.product_version_edit, name="product_version_edit"),
    path(
        "versions/<int:pk>/publish/",
        product_views.product_version_publish,
        name="product_version_publish",
    ),
    *restructure_urls.urlpatterns,
    *bookimport_urls.urlpatterns,
    *charge_urls.urlpatterns,
]
