from django.shortcuts import get_object_or_404, redirect, render

from .models import Entry


def index(request):
    first = Entry.objects.order_by("pk").first()
    return redirect(first) if first else render(request, "blog/empty.html")


def entry_detail(request, pk: int):
    entry = get_object_or_404(Entry, pk=pk)
    return render(request, "blog/entry_detail.html", {"entry": entry, "posted": "c" in request.GET})
