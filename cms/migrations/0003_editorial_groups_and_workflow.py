"""Editors write, Reviewers (expert reviewers) approve: groups, permissions and the workflow.

Workflow "Expert review": 1. Editorial review (Editors) → 2. Expert review (Reviewers) →
published on the last approval. It is assigned to the root page, so it covers every locale.
Editors cannot publish directly; every publication goes through the workflow.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

WORKFLOW_NAME = "Expert review"
TASKS = [("Editorial review", "Editors"), ("Expert review", "Reviewers")]
PAGE_PERMISSIONS = {
    "Editors": ["add_page", "change_page", "lock_page", "unlock_page"],
    "Reviewers": ["change_page", "publish_page", "lock_page", "unlock_page"],
}
COLLECTION_PERMISSIONS = {
    "Editors": [
        ("wagtailimages", "add_image"),
        ("wagtailimages", "change_image"),
        ("wagtailimages", "choose_image"),
        ("wagtaildocs", "add_document"),
        ("wagtaildocs", "change_document"),
        ("wagtaildocs", "choose_document"),
    ],
    "Reviewers": [("wagtailimages", "choose_image"), ("wagtaildocs", "choose_document")],
}
MODEL_PERMISSIONS = {
    "Editors": [
        ("wagtailadmin", "access_admin"),
        ("cms", "view_topic"),
        ("cms", "view_lifesituation"),
        ("cms", "view_targetgroup"),
    ],
    "Reviewers": [
        ("wagtailadmin", "access_admin"),
        ("cms", "view_topic"),
        ("cms", "view_lifesituation"),
        ("cms", "view_targetgroup"),
    ],
}


def permission(apps, app_label, codename):
    Permission = apps.get_model("auth.Permission")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def create_groups_and_workflow(apps, schema_editor):
    # Permissions are normally created after all migrations; these need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth.Group")
    Page = apps.get_model("wagtailcore.Page")
    Collection = apps.get_model("wagtailcore.Collection")
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore.GroupCollectionPermission")
    ContentType = apps.get_model("contenttypes.ContentType")
    Workflow = apps.get_model("wagtailcore.Workflow")
    WorkflowTask = apps.get_model("wagtailcore.WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore.WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore.GroupApprovalTask")

    root_page = Page.objects.filter(depth=1).first()
    root_collection = Collection.objects.filter(depth=1).first()
    groups = {}
    for name, codenames in PAGE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        groups[name] = group
        group.permissions.add(
            *(permission(apps, app, codename) for app, codename in MODEL_PERMISSIONS[name])
        )
        if root_page is not None:
            # Editors publish only through the workflow: drop any publish right Wagtail gave them.
            GroupPagePermission.objects.filter(group=group, page=root_page).exclude(
                permission__codename__in=codenames
            ).delete()
            for codename in codenames:
                GroupPagePermission.objects.get_or_create(
                    group=group,
                    page=root_page,
                    permission=permission(apps, "wagtailcore", codename),
                )
        if root_collection is not None:
            for app, codename in COLLECTION_PERMISSIONS[name]:
                GroupCollectionPermission.objects.get_or_create(
                    group=group,
                    collection=root_collection,
                    permission=permission(apps, app, codename),
                )

    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    for sort_order, (task_name, group_name) in enumerate(TASKS):
        task = GroupApprovalTask.objects.filter(name=task_name).first()
        if task is None:
            task = GroupApprovalTask.objects.create(
                name=task_name, content_type=task_type, active=True
            )
        task.groups.set([groups[group_name]])
        WorkflowTask.objects.update_or_create(
            workflow=workflow, task=task, defaults={"sort_order": sort_order}
        )
    if root_page is not None:
        WorkflowPage.objects.update_or_create(page=root_page, defaults={"workflow": workflow})


def remove_workflow(apps, schema_editor):
    Workflow = apps.get_model("wagtailcore.Workflow")
    Workflow.objects.filter(name=WORKFLOW_NAME).update(active=False)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0002_content_pages_and_vocabularies"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
    ]

    operations = [
        migrations.RunPython(create_groups_and_workflow, remove_workflow),
    ]
