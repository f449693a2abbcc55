# ruff: noqa: E501 - the articles are prose: one paragraph or list item per line, as staff type them.
"""Demo articles about the number itself: moving it in from or out to another operator (done by
support, not on the site: the articles say what to have ready), and using it abroad."""

from __future__ import annotations

from refill.help import topics
from refill.help.models import Article

from .article import DemoArticle

C = Article.Category

ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        topics.PORT_IN,
        C.LINE_STATUS,
        "bring-your-number",
        "Bringing your number from another operator (port in)",
        "携号转入：把其他运营商的号码转过来",
        """Moving a number from another operator to us is done by our support team, not on the website. It takes a few working days, and your old line keeps working until the move is done.

## Before you ask
- **Do not cancel** your line with the other operator: a cancelled number cannot be moved.
- Check that the number is in the same country as the plans you want (see [Plans and prices](/help/plans-and-prices/)).
- Ask your current operator for a **transfer or port-out code** (some call it a number transfer PIN or authorisation code), and check that nothing is owed there.

## What to have ready
- The number to move.
- The name of your current operator and your account number there.
- The transfer code, and the name and address on that account as the operator has them.
- Whether you want an eSIM or a physical SIM with us.

## Ask for the move
1. [Contact support](/support/new/) and choose the number's subject, or "Something else".
2. Give the details above. We answer by email, in your language, with what happens next and the date.
3. When the move is done, the number appears on [My lines](/lines/), and you install its eSIM from **eSIM and new phone**. The first plan is paid as for any new line.

We cannot move a number we do not offer service for, or one in another person's name without their consent.""",
        """把其他运营商的号码转到我们这里（携号转入）由客服团队办理，不能在网站上直接操作。办理需要几个工作日，办理完成前您的原号码可以继续使用。

## 申请之前
- **不要取消** 原运营商的号码服务：已销号的号码无法转入。
- 确认号码所属的国家或地区与您想使用的套餐一致（请参阅[套餐与价格](/help/plans-and-prices/)）。
- 向原运营商申请 **携号转网授权码**（有的运营商称为转网码或授权码），并确认没有欠费。

## 需要准备的资料
- 要转入的号码。
- 原运营商的名称和您在该运营商的账户号码。
- 转网授权码，以及原运营商登记的姓名和地址。
- 您希望使用 eSIM 还是实体 SIM 卡。

## 提交申请
1. [联系客服](/support/new/)，选择与号码相关的类别，或选择“其他问题”。
2. 提供上述资料。我们会用您的语言通过邮件答复，告诉您接下来的步骤和日期。
3. 转入完成后，号码会出现在[我的号码](/lines/)中，您可以在 **eSIM 与换新手机** 页面安装 eSIM。首个套餐周期的付款方式与新号码相同。

我们无法转入不在服务范围内的号码，也无法在未经本人同意的情况下转入他人名下的号码。""",
        keywords_en="port in, porting, transfer number, bring my number, keep my old number, switch to you, move number, number portability",
        keywords_zh_hans="携号转网, 携号转入, 转网, 号码转入, 转过来, 保留原号码, 换运营商",
    ),
    DemoArticle(
        topics.PORT_OUT,
        C.LINE_STATUS,
        "move-your-number-away",
        "Moving your number to another operator (port out)",
        "携号转出：把号码转到其他运营商",
        """You can take your number to another operator. The move is started by the new operator; from us you need a transfer code, which our support team gives you.

## Before you move
- **Keep the number yours**: it can only be moved while it is in service, in its grace period or suspended. Once the number is being released it cannot be moved: see [Grace period and suspension](/help/grace-suspension-number-kept/).
- **Spend your wallet**: wallet money stays with us and is not moved. A top-up you have not spent can be refunded: see [Refunds](/help/refunds/).
- **Auto-renew**: turn it off on the line's auto-renew page once the move is done, so nothing is charged after.
- Days left on your plan are not refunded automatically. [Ask us](/support/new/) if you think a refund is due.

## Get your transfer code
1. [Contact support](/support/new/) from your account and say you want to move the number to another operator.
2. We check that the request comes from you and send the code by email, with how long it is valid.
3. Give the code and the number to your new operator. They tell you when the move happens.

When the move is done, the line leaves [My lines](/lines/). Your orders, receipts and wallet stay in your account.""",
        """您可以把号码转到其他运营商（携号转出）。转网由新运营商发起；您需要向我们的客服团队申请转网授权码。

## 转出之前
- **确保号码仍属于您**：只有处于正常使用、宽限期或已停机状态的号码才能转出。号码进入回收阶段后将无法转出，请参阅[宽限期与停机](/help/grace-suspension-number-kept/)。
- **用完钱包余额**：钱包余额留在我们这里，不会随号码转出。尚未使用的充值金额可以退款，请参阅[退款](/help/refunds/)。
- **自动续费**：转出完成后，请在号码的自动续费页面关闭自动续费，以免之后继续扣款。
- 套餐剩余天数不会自动退款。如果您认为应该退款，请[联系我们](/support/new/)。

## 申请转网授权码
1. 登录账户后[联系客服](/support/new/)，说明您要把号码转到其他运营商。
2. 我们核实是您本人申请后，会通过邮件发送授权码，并告诉您有效期。
3. 把授权码和号码提供给新运营商，新运营商会告诉您转网的时间。

转出完成后，号码将从[我的号码](/lines/)中移除。您的订单、收据和钱包仍保留在账户中。""",
        keywords_en="port out, porting, leave, switch operator, transfer code, pac, move number, number portability, unlock",
        keywords_zh_hans="携号转网, 携号转出, 转网, 转出, 授权码, 转到其他运营商, 换运营商",
    ),
    DemoArticle(
        topics.ROAMING,
        C.LINE_STATUS,
        "roaming",
        "Using your line abroad (roaming)",
        "在国外使用号码（漫游）",
        """Your plans are for use in your line's own country. Before you travel, check what your line can do abroad, and how to keep it.

## Can I use my plan abroad?
Roaming is not included in the plans shown on the renew page unless the plan says so. Whether your line works abroad, and at what price, depends on the country you visit: [contact support](/support/new/) before you travel and tell us where you are going.

## On your phone
- To avoid using data abroad, turn **Data roaming** off in the phone's settings for this line. Calls and texts may still reach you.
- To use a local eSIM while travelling, add it as a second line and keep ours on: your number stays reachable and its eSIM stays installed. Do not delete our eSIM.

## Keep your number while away
- Renew from anywhere: the website works over any Wi-Fi, and auto-renew pays while you are away. See [How auto-renew works](/help/auto-renew-and-spending-cap/).
- Away for months? The [keep my number plan](/help/keep-my-number/) keeps the number for less.
- If your plan ends, you have a grace period and then a suspension before the number is at risk: see [Grace period and suspension](/help/grace-suspension-number-kept/).

## Codes by text
Banks often send codes by text. Check before you travel that texts reach you abroad, or switch the bank to another way of confirming.""",
        """我们的套餐用于号码所属的国家或地区。出行前，请先了解号码在国外能做什么，以及如何保留号码。

## 套餐能在国外使用吗？
除非套餐中注明，续费页面上的套餐都不包含漫游。号码在国外能否使用、费用多少取决于您前往的国家或地区：请在出行前[联系客服](/support/new/)，告诉我们您的目的地。

## 手机设置
- 如不想在国外产生流量，请在手机设置中为这个号码关闭 **数据漫游**。您可能仍然可以接听电话和接收短信。
- 如果旅行时想使用当地的 eSIM，请把它添加为第二个号码，同时保留我们的号码：这样您的号码仍然可以联系到，eSIM 也会保留在手机上。请不要删除我们的 eSIM。

## 出门在外也保留号码
- 随时随地都能续费：网站可以通过任何 Wi-Fi 打开，自动续费也会在您外出期间照常扣款。请参阅[自动续费](/help/auto-renew-and-spending-cap/)。
- 要离开好几个月？可以使用费用更低的[保号套餐](/help/keep-my-number/)保留号码。
- 套餐到期后，号码会先进入宽限期，然后已停机，之后才有被回收的风险：请参阅[宽限期与停机](/help/grace-suspension-number-kept/)。

## 短信验证码
银行通常通过短信发送验证码。出行前请确认在国外能收到短信，或把银行的验证方式改为其他方式。""",
        keywords_en="roaming, abroad, travel, overseas, international, another country, vacation, holiday",
        keywords_zh_hans="漫游, 国外, 出国, 境外, 国际, 旅行, 出差",
    ),
)
