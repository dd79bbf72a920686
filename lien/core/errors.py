"""Error pages: French pages for people, JSON for API clients."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Introuvable."}, status=404)
    return render(request, "errors/404.html", status=404)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Action non permise pour votre profil."}, status=403)
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"detail": "Erreur interne : l'équipe technique est prévenue."}, status=500
        )
    # No context processors: the error may come from them.
    return HttpResponse(
        "<!doctype html><html lang=fr><meta charset=utf-8><title>Erreur</title>"
        "<h1>Une erreur est survenue</h1><p>L'équipe technique est prévenue. "
        "Réessayez dans un instant ; vos données déjà enregistrées ne sont pas perdues.</p>",
        status=500,
    )


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """A request Django itself refuses (too many fields, a malformed body…)."""
    if _wants_json(request):
        return JsonResponse({"detail": "Requête invalide (trop de paramètres ou mal formée)."},
                            status=400)  # fmt: skip
    return HttpResponse(
        "<!doctype html><html lang=fr><meta charset=utf-8><title>Requête invalide</title>"
        "<h1>Requête invalide</h1><p>La page a reçu une demande qu'elle ne peut pas lire.</p>",
        status=400,
    )
