from django.db import models
from django.urls import reverse


class Entry(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("entry-detail", args=[self.pk])
